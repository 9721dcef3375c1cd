//! The bounds on what one request may hold, in one place (docs/serve.md, "Limits"). The sidecar
//! and the tower Layer refuse a request past any of them with a 4xx that names the bound, before
//! deciding it; the JSON readers (`strict_json`) check nesting before they descend. So no request
//! can overflow a stack, and none costs more than these sizes allow: the classifier's work grows
//! with the text, a log record's size with the request it carries.

use std::borrow::Cow;

/// `x-intent-*` request headers one request may carry (each `x-intent-context-<field>` counts).
pub const MAX_HEADERS: usize = 64;
/// Bytes in an `x-intent-*` header name (`x-intent-context-subject.residency` has 34).
pub const MAX_HEADER_NAME: usize = 128;
/// Bytes in one `x-intent-*` header value.
pub const MAX_HEADER_VALUE: usize = 8 * 1024;
/// Bytes in all `x-intent-*` headers of a request together, names and values.
pub const MAX_HEADERS_TOTAL: usize = 16 * 1024;
/// Bytes of free text for the classifier (`text` in a body, `x-intent-text`): the classifier's
/// work grows with the text and runs on the threads that answer requests, and intents are told
/// apart by a sentence or two.
pub const MAX_TEXT: usize = 4 * 1024;
/// Intents one `POST /v1/classify` answer may list (`top`): the answer stays small whatever
/// the plan's size.
pub const MAX_TOP: usize = 100;
/// Objects and arrays nested in a context: `{"subject": {"residency": "EU"}}` nests 2 deep.
pub const MAX_DEPTH: usize = 32;
/// Characters of a name the caller sent (an unknown intent, agent or header) repeated in an
/// answer; longer names are cut there and end in `…`.
pub const MAX_ECHO: usize = 64;
/// The largest `--max-body` the sidecar accepts: a decision-log record holds the request, so this
/// bounds the record too (docs/serve.md).
pub const MAX_BODY_LIMIT: usize = 1024 * 1024;

/// `name` as an answer may repeat it: at most `MAX_ECHO` characters, then `…`.
pub fn echo(name: &str) -> Cow<'_, str> {
    match name.char_indices().nth(MAX_ECHO) {
        None => Cow::Borrowed(name),
        Some((cut, _)) => Cow::Owned(format!("{}…", name.get(..cut).unwrap_or(""))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_cuts_long_names_on_a_character_boundary() {
        assert_eq!(echo("pay"), "pay");
        let long = "é".repeat(MAX_ECHO + 1);
        let cut = echo(&long);
        assert_eq!(cut.chars().count(), MAX_ECHO + 1);
        assert!(cut.ends_with("é…"));
        assert_eq!(echo(&"a".repeat(MAX_ECHO)), "a".repeat(MAX_ECHO));
    }
}
