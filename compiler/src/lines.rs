//! What a line is, defined once for every place that turns byte offsets into lines and
//! columns (diagnostics, the plan's source map, the IDE): a line ends at `\n`, at `\r\n`, or
//! at a lone `\r`, as the Language Server Protocol and editors count. The lexer ends comments
//! and strings at the same three.
//!
//! [`Lines`] answers a position in time logarithmic in the text: line starts are found by
//! binary search, and a column in characters is the byte distance less the UTF-8
//! continuation bytes in between, also counted by binary search. Rendering thousands of
//! diagnostics is then linear in their number, not in their number times the file's size.

/// Where each line of `text` starts (the first is 0).
pub fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\n' => starts.push(i + 1),
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
            _ => {}
        }
    }
    starts
}

/// Where the line starting at `start` ends, before its line break.
pub fn line_end(text: &str, start: usize) -> usize {
    let rest = text.get(start..).unwrap_or("");
    start + rest.find(['\n', '\r']).unwrap_or(rest.len())
}

/// `text` with every lone `\r` made a `\n`: the same lines at the same byte offsets, for code
/// that looks for `\n` only (the formatter, which then writes `\n` line ends).
pub fn with_line_feeds(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let lone = |i: usize| bytes.get(i) == Some(&b'\r') && bytes.get(i + 1) != Some(&b'\n');
    if !(0..bytes.len()).any(lone) {
        return std::borrow::Cow::Borrowed(text);
    }
    let out: String = text
        .char_indices()
        .map(|(i, c)| if lone(i) { '\n' } else { c })
        .collect();
    std::borrow::Cow::Owned(out)
}

/// A text's lines, for 1-based lines and columns counted in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lines {
    starts: Vec<usize>,
    /// Byte offsets of UTF-8 continuation bytes, ascending: a character is one byte plus its
    /// continuation bytes.
    continuations: Vec<usize>,
    len: usize,
}

impl Lines {
    pub fn new(text: &str) -> Lines {
        Lines {
            starts: line_starts(text),
            continuations: text
                .bytes()
                .enumerate()
                .filter(|(_, b)| b & 0xC0 == 0x80)
                .map(|(i, _)| i)
                .collect(),
            len: text.len(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset, clamped to the text.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.len);
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        (line, self.chars_between(start, offset) + 1)
    }

    /// The byte offset of a 1-based line and column (in characters); past the end of a line is
    /// its end, past the last line is the end of the text.
    pub fn offset(&self, text: &str, line: usize, col: usize) -> usize {
        let Some(start) = line
            .checked_sub(1)
            .and_then(|l| self.starts.get(l))
            .copied()
        else {
            return self.len;
        };
        let end = line_end(text, start);
        let line_text = text.get(start..end).unwrap_or("");
        line_text
            .char_indices()
            .nth(col.saturating_sub(1))
            .map_or(end, |(i, _)| start + i)
    }

    /// How many characters start in `[from, to)`.
    fn chars_between(&self, from: usize, to: usize) -> usize {
        let to = to.max(from);
        let within = self.continuations.partition_point(|c| *c < to)
            - self.continuations.partition_point(|c| *c < from);
        (to - from) - within
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_carriage_returns_end_lines_like_line_feeds() {
        for text in ["a\nbc\nd", "a\rbc\rd", "a\r\nbc\r\nd"] {
            let lines = Lines::new(text);
            let d = text.rfind('d').unwrap_or(0);
            assert_eq!(lines.line_col(d), (3, 1), "{text:?}");
            let c = text.find('c').unwrap_or(0);
            assert_eq!(lines.line_col(c), (2, 2), "{text:?}");
            assert_eq!(lines.offset(text, 2, 2), c, "{text:?}");
            assert_eq!(lines.offset(text, 2, 9), c + 1, "{text:?}");
        }
        assert_eq!(line_starts("\r\r\n\n"), vec![0, 1, 3, 4]);
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "é😀x\nab";
        let lines = Lines::new(text);
        assert_eq!(lines.line_col(6), (1, 3));
        assert_eq!(lines.line_col(8), (2, 1));
        assert_eq!(lines.line_col(99), (2, 3));
        assert_eq!(lines.offset(text, 1, 3), 6);
        assert_eq!(lines.offset(text, 7, 1), text.len());
    }
}
