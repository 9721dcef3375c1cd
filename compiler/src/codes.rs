//! The stable diagnostic codes, each with its severity, a title and the long explanation that
//! `intent explain CODE` prints (a minimal `.intent` example included).
//!
//! Codes never change meaning once released; a retired code stays in the table. The texts live
//! in `codes/*.md`, one file a code, so they can be read and reviewed as documents.

use crate::diagnostics::Severity;
use serde::{Serialize, Serializer};

/// A diagnostic code such as `E0100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(&'static str);

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

pub struct CodeInfo {
    pub code: Code,
    pub severity: Severity,
    pub title: &'static str,
    pub explanation: &'static str,
}

macro_rules! codes {
    ($( $konst:ident = $code:literal, $sev:ident, $title:literal; )*) => {
        impl Code {
            $( pub const $konst: Code = Code($code); )*
        }
        /// Every code, in order.
        pub const ALL: &[CodeInfo] = &[
            $( CodeInfo {
                code: Code($code),
                severity: Severity::$sev,
                title: $title,
                explanation: include_str!(concat!("codes/", $code, ".md")),
            }, )*
        ];
    };
}

codes! {
    SYNTAX = "E0001", Error, "syntax error";
    BAD_CHAR = "E0002", Error, "invalid character or encoding";
    UNTERMINATED_STRING = "E0003", Error, "unterminated string";
    UNTERMINATED_COMMENT = "E0004", Error, "unterminated block comment";
    BAD_LITERAL = "E0005", Error, "invalid literal";
    TOO_DEEP = "E0006", Error, "nesting too deep";
    RESERVED_NAME = "E0007", Error, "reserved word used as a name";
    MISPLACED_PACKAGE = "E0008", Error, "misplaced package declaration";
    HIDDEN_CHAR = "E0009", Error, "hidden or bidirectional character";
    TRAILING_COMMA = "E0010", Error, "trailing comma";
    FOREIGN_KEYWORD = "E0011", Error, "keyword from another language";
    BAD_DURATION = "E0012", Error, "duration written as words";
    SYMBOL_OPERATOR = "E0013", Error, "`&&` or `||` for `and` or `or`";
    UNKNOWN_NAME = "E0100", Error, "unknown name";
    UNKNOWN_CAPABILITY = "E0101", Error, "unknown capability";
    UNKNOWN_AGENT = "E0102", Error, "unknown agent";
    UNKNOWN_HUMAN = "E0103", Error, "unknown human";
    UNKNOWN_INTENT = "E0104", Error, "unknown intent";
    UNKNOWN_DATA = "E0105", Error, "unknown data class";
    UNKNOWN_FIELD = "E0106", Error, "unknown context field";
    UNKNOWN_IMPORT = "E0107", Error, "unknown import";
    UNKNOWN_STEP = "E0108", Error, "unknown step";
    UNKNOWN_TYPE = "E0109", Error, "unknown type";
    DUPLICATE = "E0110", Error, "duplicate declaration";
    DUPLICATE_FIELD = "E0111", Error, "duplicate field";
    FILE_IN_MAIN = "E0112", Error, "file without `package` in a mesh of packages";
    SHADOWS_REQUEST_KEY = "E0113", Error, "context field named like a request key";
    UNKNOWN_CALLER_ATTRIBUTE = "E0114", Error, "unknown attribute of the caller";
    BAD_CLAIM = "E0115", Error, "field that cannot be filled from a claim";
    TYPE_MISMATCH = "E0200", Error, "type mismatch";
    THRESHOLD_RANGE = "E0201", Error, "threshold outside 0..1";
    OPERAND_CONTEXT = "E0202", Error, "operand not available here";
    BAD_FIELD_VALUE = "E0203", Error, "invalid field value";
    BAD_TEST = "E0204", Error, "invalid test";
    MISSING_GIVEN_FIELD = "E0205", Error, "test request without a required field";
    MISPLACED_ACTION = "E0206", Error, "action not allowed here";
    ROUTE_NOT_COVERED = "E0300", Error, "route that does not cover every request";
    NO_ROUTE = "E0301", Error, "intent without a route";
    STEP_LACKS_CAPABILITY = "E0302", Error, "target lacks a needed capability";
    MISSING_CLEARANCE = "E0303", Error, "agent lacks clearance";
    UNCOVERED_REQUIRES = "E0304", Error, "required capability not covered";
    HANDLES_NOT_SUBSET = "E0305", Error, "step handles data the intent does not";
    AFTER_CYCLE = "E0306", Error, "cycle in `after`";
    BACKUP_CYCLE = "E0307", Error, "cycle in `backup` or `fallback`";
    DELEGATES_CYCLE = "E0308", Error, "cycle in `delegates`";
    UNPROVIDED_CAPABILITY = "E0309", Error, "no agent provides a needed capability";
    MISSING_REASON = "E0310", Error, "forbid without a reason";
    ARM_AFTER_OTHERWISE = "E0311", Error, "arm after `otherwise`";
    DATA_CYCLE = "E0312", Error, "invalid data hierarchy";
    TOOL_ROUTE = "E0313", Error, "tool intent not served by one MCP server";
    TOOL_ARGUMENT = "E0314", Error, "tool argument that is not a context field";
    NO_OTHERWISE = "E0315", Error, "`otherwise` missing where it is required";
    ROUTE_UNPROVED = "E0316", Error, "route whose coverage could not be proved";
    CEDAR_INVALID = "E0400", Error, "generated Cedar policy is invalid";
    UNUSED = "W0001", Warning, "unused declaration";
    CAPABILITY_NOT_PROVIDED = "W0002", Warning, "capability no agent provides";
    OPTIONAL_WITHOUT_HAS = "W0003", Warning, "optional field used without `has`";
    DELEGATION_TOO_DEEP = "W0004", Warning, "delegation chain deeper than the limit";
    CLEARANCE_BY_PERMIT = "W0005", Warning, "clearance only through a `permit`";
    EMPTY_MESH = "W0006", Warning, "mesh that declares nothing";
    INDISTINCT_INTENTS = "W0007", Warning, "intents the classifier cannot tell apart";
    DEAD_ARM = "W0100", Warning, "arm that is never taken";
    PERMIT_GRANTS_NOTHING = "W0101", Warning, "permit that grants nothing";
    PERMIT_OVERRIDDEN = "W0102", Warning, "permit that a forbid always overrides";
    ESCALATE_NEVER_FIRES = "W0103", Warning, "escalation rule that never fires";
    OVER_ALIGNED = "W0104", Warning, "intent never dispatched (over-alignment)";
    ANY_UNFILLABLE = "W0105", Warning, "`any CAPABILITY` that no permitted agent fills";
}

impl Code {
    pub fn as_str(&self) -> &'static str {
        self.0
    }

    pub fn info(&self) -> Option<&'static CodeInfo> {
        ALL.iter().find(|i| i.code == *self)
    }

    pub fn severity(&self) -> Severity {
        self.info().map_or(Severity::Error, |i| i.severity)
    }

    /// Looks a code up by its text, case-insensitively (`e0100` works).
    pub fn parse(text: &str) -> Option<Code> {
        ALL.iter()
            .find(|i| i.code.0.eq_ignore_ascii_case(text.trim()))
            .map(|i| i.code)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
