//! The standard library: `.intent` modules of shared vocabulary compiled into the binary and
//! added to every compilation (`use std.data.{pii}`). Paths start with `<std>/` so diagnostics
//! show where a name comes from.

/// (path, text) of each module.
pub const MODULES: &[(&str, &str)] = &[
    (
        "<std>/std/data.intent",
        include_str!("../../stdlib/std/data.intent"),
    ),
    (
        "<std>/std/regions.intent",
        include_str!("../../stdlib/std/regions.intent"),
    ),
    (
        "<std>/std/compliance/gdpr.intent",
        include_str!("../../stdlib/std/compliance/gdpr.intent"),
    ),
    (
        "<std>/std/compliance/hipaa.intent",
        include_str!("../../stdlib/std/compliance/hipaa.intent"),
    ),
];
