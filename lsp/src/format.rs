//! Document formatting: the compiler's formatter (`intent fmt`), whose refusals (a file that
//! does not parse is never reformatted) become an error answer with the first problem.

/// The formatted text, or why it cannot be formatted.
pub fn format(text: &str) -> Result<String, String> {
    intent_compiler::fmt::format_source(text).map_err(|diags| {
        let first = diags
            .first()
            .map_or_else(|| "unknown problem".to_string(), |d| d.message.clone());
        format!("cannot format a file with syntax errors: {first}")
    })
}
