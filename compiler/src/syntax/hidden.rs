//! Characters that change how source text is displayed without showing themselves ("Trojan
//! Source", CVE-2021-42574): bidirectional controls, which reorder the text around them, and
//! invisible characters (zero-width spaces and joiners, a byte-order mark inside the text, tag
//! characters, fillers). In a policy language they let a reviewer read `"EU"` where the file
//! says something else, so the lexer refuses them in strings, comments and everywhere else
//! (E0009); a string that needs one writes it as an escape, `\u{202E}`.
//!
//! The list is explicit rather than a Unicode property so that it can be read and reviewed:
//! the bidirectional formatting characters of Unicode's UAX #9, and the default-ignorable
//! format characters that render as nothing.

/// What a hidden character is, for messages.
fn name(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{202A}' => "left-to-right embedding",
        '\u{202B}' => "right-to-left embedding",
        '\u{202C}' => "pop directional formatting",
        '\u{202D}' => "left-to-right override",
        '\u{202E}' => "right-to-left override",
        '\u{2066}' => "left-to-right isolate",
        '\u{2067}' => "right-to-left isolate",
        '\u{2068}' => "first strong isolate",
        '\u{2069}' => "pop directional isolate",
        '\u{200E}' => "left-to-right mark",
        '\u{200F}' => "right-to-left mark",
        '\u{061C}' => "arabic letter mark",
        '\u{200B}' => "zero-width space",
        '\u{200C}' => "zero-width non-joiner",
        '\u{200D}' => "zero-width joiner",
        '\u{2060}' => "word joiner",
        '\u{2061}'..='\u{2064}' => "invisible operator",
        '\u{206A}'..='\u{206F}' => "deprecated format character",
        '\u{FEFF}' => "zero-width no-break space (byte-order mark)",
        '\u{00AD}' => "soft hyphen",
        '\u{034F}' => "combining grapheme joiner",
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' => "hangul filler",
        '\u{17B4}' | '\u{17B5}' => "khmer inherent vowel",
        '\u{180B}'..='\u{180F}' => "mongolian format character",
        '\u{FFF9}'..='\u{FFFB}' => "interlinear annotation character",
        '\u{1D173}'..='\u{1D17A}' => "musical symbol format character",
        '\u{E0000}'..='\u{E007F}' => "tag character",
        _ => return None,
    })
}

/// A hidden character found in a piece of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hidden {
    /// Byte offset of the first one, from the start of the text searched.
    pub at: usize,
    pub ch: char,
    /// How many the text holds in all.
    pub count: usize,
}

impl Hidden {
    /// `U+202E (right-to-left override)`.
    pub fn describe(&self) -> String {
        let what = name(self.ch).unwrap_or("invisible character");
        format!("U+{:04X} ({what})", u32::from(self.ch))
    }

    /// The first character's width in bytes.
    pub fn width(&self) -> usize {
        self.ch.len_utf8()
    }

    /// ` and 2 more`, or nothing for one.
    pub fn more(&self) -> String {
        match self.count {
            0 | 1 => String::new(),
            n => format!(" and {} more", n - 1),
        }
    }
}

/// Whether `c` is a hidden character.
pub fn is_hidden(c: char) -> bool {
    name(c).is_some()
}

/// The first hidden character of `text` and how many there are.
pub fn find(text: &str) -> Option<Hidden> {
    // Every hidden character is outside ASCII: most text is skipped a byte at a time.
    if text.is_ascii() {
        return None;
    }
    let mut found = text.char_indices().filter(|(_, c)| is_hidden(*c));
    let (at, ch) = found.next()?;
    Some(Hidden {
        at,
        ch,
        count: 1 + found.count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_and_counts_the_rest() {
        let h = find("\"EU\u{202E}\u{2066}x\u{200B}\"");
        assert_eq!(
            h,
            Some(Hidden {
                at: 3,
                ch: '\u{202E}',
                count: 3
            })
        );
        let h = h.unwrap_or(Hidden {
            at: 0,
            ch: ' ',
            count: 0,
        });
        assert_eq!(h.describe(), "U+202E (right-to-left override)");
        assert_eq!(h.more(), " and 2 more");
        assert_eq!(find("plain, é and 😀"), None);
    }
}
