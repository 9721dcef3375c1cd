//! Byte offsets to lines and columns and back, with columns counted in UTF-16 code units as
//! the Language Server Protocol counts them. Total: every offset and every position maps to
//! something (positions past the end clamp to the end; a column inside a character snaps to
//! its start). Lines end where [`crate::lines`] says: at `\n`, `\r\n` or a lone `\r`.

/// Where each line of a text starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    text_len: usize,
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        LineIndex {
            text_len: text.len(),
            starts: crate::lines::line_starts(text),
        }
    }

    /// 0-based line and UTF-16 column of a byte offset (clamped to the text).
    pub fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = floor_char(text, offset.min(self.text_len));
        let line = self
            .starts
            .partition_point(|s| *s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let col: usize = text
            .get(start..offset)
            .map_or(0, |s| s.chars().map(char::len_utf16).sum());
        (line as u32, col as u32)
    }

    /// The byte offset of a 0-based line and UTF-16 column; past the end of a line is its end,
    /// past the last line is the end of the text.
    pub fn offset(&self, text: &str, line: u32, col: u32) -> usize {
        let Some(start) = self.starts.get(line as usize).copied() else {
            return self.text_len;
        };
        let end = crate::lines::line_end(text, start);
        let mut units = 0usize;
        let line_text = text.get(start..end).unwrap_or("");
        for (i, c) in line_text.char_indices() {
            if units >= col as usize {
                return start + i;
            }
            units += c.len_utf16();
            if units > col as usize {
                return start + i;
            }
        }
        end
    }
}

/// The largest char boundary at or before `offset`.
pub(crate) fn floor_char(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_columns_count_surrogate_pairs_and_accents() {
        let text = "é😀x\nab";
        let idx = LineIndex::new(text);
        // é is 2 bytes / 1 unit, 😀 is 4 bytes / 2 units.
        assert_eq!(idx.position(text, 6), (0, 3));
        assert_eq!(idx.offset(text, 0, 3), 6);
        assert_eq!(idx.position(text, 8), (1, 0));
        // Past the end of a line, past the last line, inside a surrogate pair.
        assert_eq!(idx.offset(text, 0, 99), 7);
        assert_eq!(idx.offset(text, 9, 0), text.len());
        assert_eq!(idx.offset(text, 0, 2), 2);
        // An offset inside a character snaps back to its start.
        assert_eq!(idx.position(text, 3), (0, 1));
    }

    #[test]
    fn carriage_returns_alone_or_before_line_feeds_end_lines() {
        for text in ["ab\rcd\ref", "ab\r\ncd\r\nef"] {
            let idx = LineIndex::new(text);
            let e = text.find('e').unwrap_or(0);
            assert_eq!(idx.position(text, e), (2, 0), "{text:?}");
            assert_eq!(idx.offset(text, 2, 1), e + 1, "{text:?}");
            // Past the end of line 0 is its end, before the line break.
            assert_eq!(idx.offset(text, 0, 9), 2, "{text:?}");
        }
    }
}
