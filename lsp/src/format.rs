//! Document formatting: the compiler's formatter, when it is built in.

/// The formatted text, or why it cannot be formatted.
pub fn format(_text: &str) -> Result<String, String> {
    Err("formatter not available: this build has no `intent fmt` yet".into())
}
