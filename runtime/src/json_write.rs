//! JSON written straight into a byte buffer, byte for byte as serde_json writes the same
//! values: the two texts the sidecar writes for every decision, its answer (`/v1/decide`,
//! `/v1/authz`) and its decision-log line.
//!
//! serde's machinery (a serializer per value, a map state per key, a table lookup per byte of
//! every string) was about 40% of the sidecar's instructions per decision
//! (docs/performance.md, "The sidecar"). Here every key is a constant, and a string that
//! needs no escape (all the plan's names, ids and locations) is copied whole after one scan,
//! eight bytes at a time. Anything rarer (a string with a quote or a control character,
//! a number, a nested value of the request, an obligation) is handed to serde_json itself, so
//! the text cannot differ: the tests compare both on random decisions. A field added to
//! `Decision` fails to compile in those tests until it is written here too; an outcome or
//! trace kind is written by its `as_str`, which must stay serde's name for it.

use crate::decision::{Decision, DecisionId, FilledStep, TraceWhat};
use crate::log::LineFormatter;
use serde::Serialize;
use serde_json::Value;

/// Where a text goes, and whether it is a log line (U+2028 and U+2029 escaped, as
/// [`LineFormatter`] does).
pub(crate) struct Out<'o> {
    pub buf: &'o mut Vec<u8>,
    pub line: bool,
}

impl Out<'_> {
    /// Any value, through serde_json (with the log's formatter for a line). Writing into
    /// memory fails only for a map whose keys are not strings, which no value here has.
    pub fn serde(&mut self, value: &(impl Serialize + ?Sized)) {
        if self.line {
            let mut ser = serde_json::Serializer::with_formatter(&mut *self.buf, LineFormatter);
            let _ = value.serialize(&mut ser);
        } else {
            let _ = serde_json::to_writer(&mut *self.buf, value);
        }
    }

    /// Whether `s` is written as it is between quotes: no quote, backslash or control
    /// character (serde_json's escapes), and for a line no byte that may start U+2028 or
    /// U+2029. Eight bytes at a time (most strings here are names of 8 to 40 bytes, too short
    /// for vector loops to pay).
    fn plain(&self, s: &str) -> bool {
        let mut words = s.as_bytes().chunks_exact(8);
        let mut bad = 0u64;
        for w in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            bad |= self.escapes(u64::from_le_bytes(word));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            // Padded with spaces, which need no escape.
            let mut word = [b' '; 8];
            word[..rest.len()].copy_from_slice(rest);
            bad |= self.escapes(u64::from_le_bytes(word));
        }
        bad == 0
    }

    /// Not zero when one of the eight bytes of `x` needs an escape. Each test is the classic
    /// "some byte is zero" (or "less than n") of bit tricks: it can be wrong only for bytes
    /// above one that truly matches, so whether *any* byte matches is exact.
    fn escapes(&self, x: u64) -> u64 {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
        let quote = zero(x ^ (ONES * u64::from(b'"')));
        let backslash = zero(x ^ (ONES * u64::from(b'\\')));
        let separator = if self.line {
            zero(x ^ (ONES * 0xE2))
        } else {
            0
        };
        control | quote | backslash | separator
    }

    /// A JSON string.
    pub fn str(&mut self, s: &str) {
        if self.plain(s) {
            self.buf.reserve(s.len() + 2);
            self.buf.push(b'"');
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.push(b'"');
        } else {
            self.serde(s);
        }
    }

    /// The JSON string of `a`, `between` and `b` joined, without joining them first when
    /// none needs an escape (`between` needs none).
    fn str_joined(&mut self, a: &str, between: &str, b: &str) {
        if self.plain(a) && self.plain(b) {
            for piece in [
                &b"\""[..],
                a.as_bytes(),
                between.as_bytes(),
                b.as_bytes(),
                b"\"",
            ] {
                self.buf.extend_from_slice(piece);
            }
        } else {
            self.serde(&[a, between, b].concat());
        }
    }

    /// `"key":`, after a comma unless it is the object's first key. Keys are constants that
    /// need no escape.
    pub fn key(&mut self, first: &mut bool, key: &str) {
        if !std::mem::take(first) {
            self.buf.push(b',');
        }
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    /// `"key":value` for a value that is there, nothing for `None`.
    pub fn opt_str(&mut self, first: &mut bool, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.key(first, key);
            self.str(v);
        }
    }

    pub fn u64(&mut self, n: u64) {
        self.digits(n, 10);
    }

    /// `n` in decimal or hexadecimal (lowercase) digits.
    fn digits(&mut self, n: u64, base: u64) {
        let (buf, start) = crate::decision::digits(n, base);
        self.buf.extend_from_slice(&buf[start..]);
    }

    /// A number as serde_json writes it (`null` when not finite).
    pub fn f64(&mut self, x: f64) {
        self.serde(&x);
    }

    fn opt_f64(&mut self, x: Option<f64>) {
        match x {
            Some(x) => self.f64(x),
            None => self.buf.extend_from_slice(b"null"),
        }
    }

    /// A JSON value of a request: its scalars and strings here, nested values key by key.
    pub fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.buf.extend_from_slice(b"null"),
            Value::Bool(true) => self.buf.extend_from_slice(b"true"),
            Value::Bool(false) => self.buf.extend_from_slice(b"false"),
            Value::Number(n) => self.serde(n),
            Value::String(s) => self.str(s),
            Value::Array(items) => {
                self.buf.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b',');
                    }
                    self.value(item);
                }
                self.buf.push(b']');
            }
            Value::Object(map) => self.object(map),
        }
    }

    /// A JSON object, its keys in the map's order.
    pub fn object(&mut self, map: &serde_json::Map<String, Value>) {
        self.buf.push(b'{');
        for (i, (k, v)) in map.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.str(k);
            self.buf.push(b':');
            self.value(v);
        }
        self.buf.push(b'}');
    }

    /// A decision id's text ([`DecisionId::text`]) as a string: digits and a dash, which
    /// need no escape.
    pub fn decision_id(&mut self, id: &DecisionId) {
        self.buf.push(b'"');
        self.digits(id.at_ms, 16);
        self.buf.push(b'-');
        self.digits(id.seq, 10);
        self.buf.push(b'"');
    }

    /// `step=agent` for each filled step (the log's `steps`).
    pub fn step_list(&mut self, steps: &[FilledStep]) {
        self.buf.push(b'[');
        for (i, s) in steps.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.str_joined(&s.step, "=", &s.agent);
        }
        self.buf.push(b']');
    }

    /// The keys a decision's answer and its JSON share, from `outcome` to `obligations`, in
    /// the order `Decision` declares them.
    fn head(&mut self, first: &mut bool, d: &Decision) {
        self.key(first, "outcome");
        self.str(d.outcome.as_str());
        self.key(first, "intent");
        match &d.intent {
            Some(i) => self.str(i),
            None => self.buf.extend_from_slice(b"null"),
        }
        self.key(first, "confidence");
        self.opt_f64(d.confidence);
        self.opt_str(first, "classifier", d.classifier.as_deref());
        if let Some(n) = d.none_of_these {
            self.key(first, "none_of_these");
            self.f64(n);
        }
        self.key(first, "steps");
        self.buf.push(b'[');
        for (i, s) in d.steps.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            let mut f = true;
            self.buf.push(b'{');
            self.key(&mut f, "step");
            self.str(&s.step);
            self.key(&mut f, "agent");
            self.str(&s.agent);
            self.opt_str(&mut f, "endpoint", s.endpoint.as_deref());
            self.buf.push(b'}');
        }
        self.buf.push(b']');
        self.opt_str(first, "human", d.human.as_deref());
        if let Some(ms) = d.deadline_ms {
            self.key(first, "deadline_ms");
            self.u64(ms);
        }
        self.opt_str(first, "question", d.question.as_deref());
        self.opt_str(first, "reason", d.reason.as_deref());
        if let Some(ms) = d.retry_after_ms {
            self.key(first, "retry_after_ms");
            self.u64(ms);
        }
        self.key(first, "obligations");
        if d.obligations.is_empty() {
            self.buf.extend_from_slice(b"[]");
        } else {
            self.serde(&d.obligations);
        }
    }

    /// A decision as its `Serialize` writes it, trace included.
    pub fn decision(&mut self, d: &Decision) {
        let mut first = true;
        self.buf.push(b'{');
        self.head(&mut first, d);
        self.key(&mut first, "trace");
        self.buf.push(b'[');
        let mut what = String::with_capacity(64);
        for (i, e) in d.trace.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            let mut f = true;
            self.buf.push(b'{');
            self.key(&mut f, "kind");
            self.str(e.kind.as_str());
            self.key(&mut f, "what");
            self.what(&e.what, &mut what);
            self.key(&mut f, "matched");
            self.buf
                .extend_from_slice(if e.matched { b"true" } else { b"false" });
            self.opt_str(&mut f, "detail", e.detail.as_deref());
            self.opt_str(&mut f, "at", d.trace.at(e));
            self.buf.push(b'}');
        }
        self.buf.push(b']');
        self.key(&mut first, "plan_hash");
        self.str(&d.plan_hash);
        self.key(&mut first, "decision_id");
        self.decision_id(&d.decision_id);
        self.buf.push(b'}');
    }

    fn what(&mut self, what: &TraceWhat, scratch: &mut String) {
        if let TraceWhat::Text(text) = what {
            return self.str(text);
        }
        scratch.clear();
        what.write_to(scratch);
        self.str(scratch);
    }

    /// The body of an authorization answer: the decision without its trace, `decision_id`
    /// where the trace stands, then `plan_hash`, then `extra` (key and value) if given.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub fn answer<T: Serialize + ?Sized>(&mut self, d: &Decision, extra: Option<(&str, &T)>) {
        let mut first = true;
        self.buf.push(b'{');
        self.head(&mut first, d);
        self.key(&mut first, "decision_id");
        self.decision_id(&d.decision_id);
        self.key(&mut first, "plan_hash");
        self.str(&d.plan_hash);
        if let Some((k, v)) = extra {
            self.buf.push(b',');
            self.str(k);
            self.buf.push(b':');
            self.serde(v);
        }
        self.buf.push(b'}');
    }
}

/// A decision's JSON (its `Serialize`, trace included), written into a buffer of `capacity`
/// bytes to start with.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) fn decision_text(d: &Decision, capacity: usize) -> String {
    let mut buf = Vec::with_capacity(capacity);
    Out {
        buf: &mut buf,
        line: false,
    }
    .decision(d);
    into_string(buf)
}

/// Text written here is UTF-8: whole strings and ASCII between them.
pub(crate) fn into_string(buf: Vec<u8>) -> String {
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
#[path = "json_write_tests.rs"]
mod tests;
