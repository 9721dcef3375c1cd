//! The formatter's output buffer: indentation, line breaks, and the comments of the source.
//!
//! The printers (`items.rs`, `block.rs`, `entries.rs`, `expr.rs`) walk the syntax tree and
//! tell the writer what to put and where each piece came from in the source. The writer owns everything that depends on
//! the source layout rather than on the tree: it puts every comment back before the first
//! piece that followed it in the source (on its own line, or at the end of the line it trailed),
//! and it keeps a blank line wherever the source had one between two lines of a block (at most
//! one, never right after `{` or before `}`).

use crate::syntax::ast::Span;

/// What the writer must remember to be rewound after a trial rendering.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    len: usize,
    next_comment: usize,
    last_end: usize,
    tok_end: usize,
    col: usize,
    indent: usize,
    must_break: bool,
    pending: usize,
    block_start: bool,
    ignore_comments: bool,
    hang: Option<usize>,
}

pub struct Writer<'a> {
    pub src: &'a str,
    comments: &'a [Span],
    /// Start and end of every token, in order (comments excluded).
    tokens: &'a [(usize, usize)],
    next_comment: usize,
    out: String,
    /// Source offset just past the last piece (token or comment) written.
    last_end: usize,
    /// Source offset just past the last token written (comments aside).
    tok_end: usize,
    col: usize,
    /// Indentation of the block being written.
    pub indent: usize,
    /// A line comment was written: whatever comes next starts a new line.
    must_break: bool,
    /// Spaces to write before the next piece, unless a line starts first.
    pending: usize,
    /// Nothing has been written in the current block yet (no blank line may follow `{`).
    block_start: bool,
    /// In a trial rendering comments are left where they are.
    ignore_comments: bool,
    /// How many blank lines were written (to tell whether a gap got its blank line).
    blank_lines: usize,
    /// Where a line forced by a `//` comment continues (inside an inline list: under its
    /// first member, as a line break in the source would put it); else four columns in.
    pub hang: Option<usize>,
    /// Text the tree does not hold, which the formatter would lose: (where, what, help).
    pub refusals: Vec<(Span, String, String)>,
}

impl<'a> Writer<'a> {
    pub fn new(src: &'a str, comments: &'a [Span], tokens: &'a [(usize, usize)]) -> Writer<'a> {
        Writer {
            src,
            comments,
            tokens,
            next_comment: 0,
            out: String::with_capacity(src.len() + src.len() / 8),
            last_end: 0,
            tok_end: 0,
            col: 0,
            indent: 0,
            must_break: false,
            pending: 0,
            block_start: true,
            ignore_comments: false,
            blank_lines: 0,
            hang: None,
            refusals: Vec::new(),
        }
    }

    pub fn mark(&self) -> Mark {
        Mark {
            len: self.out.len(),
            next_comment: self.next_comment,
            last_end: self.last_end,
            tok_end: self.tok_end,
            col: self.col,
            indent: self.indent,
            must_break: self.must_break,
            pending: self.pending,
            block_start: self.block_start,
            ignore_comments: self.ignore_comments,
            hang: self.hang,
        }
    }

    /// Rewinds to `m`, returning what was written since.
    pub fn rewind(&mut self, m: Mark) -> String {
        let written = self.out.get(m.len..).unwrap_or_default().to_string();
        self.out.truncate(m.len);
        self.next_comment = m.next_comment;
        self.last_end = m.last_end;
        self.tok_end = m.tok_end;
        self.col = m.col;
        self.indent = m.indent;
        self.must_break = m.must_break;
        self.pending = m.pending;
        self.block_start = m.block_start;
        self.ignore_comments = m.ignore_comments;
        self.hang = m.hang;
        written
    }

    /// What `f` would write here, ignoring comments; nothing is kept.
    pub fn trial(&mut self, f: impl FnOnce(&mut Writer<'a>)) -> String {
        let m = self.mark();
        let refusals = self.refusals.len();
        self.ignore_comments = true;
        f(self);
        self.refusals.truncate(refusals);
        self.rewind(m)
    }

    /// What `f` would write here if it began the piece at `start`, with the comments inside
    /// it; nothing is kept.
    pub fn trial_at(&mut self, start: usize, f: impl FnOnce(&mut Writer<'a>)) -> String {
        let m = self.mark();
        let refusals = self.refusals.len();
        while self
            .comments
            .get(self.next_comment)
            .is_some_and(|c| (c.start as usize) < start)
        {
            self.next_comment += 1;
        }
        self.last_end = self.last_end.max(start);
        self.must_break = false;
        f(self);
        self.refusals.truncate(refusals);
        self.rewind(m)
    }

    /// The first token at or after `from` whose text is `text`.
    pub fn find(&self, from: usize, text: &str) -> Option<usize> {
        let i = self.tokens.partition_point(|t| t.0 < from);
        self.tokens
            .get(i..)?
            .iter()
            .find(|t| self.slice(t.0, t.1) == text)
            .map(|t| t.0)
    }

    /// Two spaces before the next piece (between the fields of a one-line block).
    pub fn gap(&mut self) {
        self.pending = self.pending.max(2);
    }

    pub fn col(&self) -> usize {
        self.col + self.pending
    }

    pub fn finish(mut self) -> String {
        self.flush_all();
        let mut out = String::with_capacity(self.out.len());
        for line in self.out.lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }

    /// Whether a comment starts inside `span`.
    pub fn has_comment_in(&self, span: Span) -> bool {
        self.comments
            .iter()
            .any(|c| c.start >= span.start && c.start < span.end)
    }

    /// Whether the source text of `span` runs over more than one line.
    pub fn spans_lines(&self, span: Span) -> bool {
        self.slice(span.start as usize, span.end as usize)
            .contains('\n')
    }

    pub fn slice(&self, start: usize, end: usize) -> &'a str {
        self.src.get(start..end).unwrap_or_default()
    }

    /// The source text of a span (literals are printed as written).
    pub fn text_of(&self, span: Span) -> &'a str {
        self.slice(span.start as usize, span.end as usize)
    }

    /// The first token starting at or after `pos`.
    pub fn token_after(&self, pos: usize) -> Option<(usize, usize)> {
        let i = self.tokens.partition_point(|t| t.0 < pos);
        self.tokens.get(i).copied()
    }

    /// The last token ending at or before `pos`.
    pub fn token_before(&self, pos: usize) -> Option<(usize, usize)> {
        let i = self.tokens.partition_point(|t| t.1 <= pos);
        i.checked_sub(1).and_then(|i| self.tokens.get(i)).copied()
    }

    /// Whether the source breaks the line just before the token at `pos`.
    pub fn broken_before(&self, pos: usize) -> bool {
        let prev = self.token_before(pos).map_or(0, |t| t.1);
        self.slice(prev, pos).contains('\n')
    }

    /// Writes `text`, which comes from the source at `at` (comments before it go first).
    pub fn tok(&mut self, text: &str, at: Span) {
        self.comments_before(at.start as usize);
        self.put(text);
        self.last_end = self.last_end.max(at.end as usize);
        self.tok_end = self.tok_end.max(at.end as usize);
    }

    /// Writes `text` that has no place of its own in the tree (punctuation).
    pub fn put(&mut self, text: &str) {
        if self.must_break {
            self.must_break = false;
            self.pending = 0;
            let indent = self.hang.unwrap_or(self.indent + 4);
            self.newline();
            self.spaces(indent);
        }
        if self.pending > 0 && !self.at_line_start() {
            let n = self.pending;
            self.spaces(n);
        }
        self.pending = 0;
        self.out.push_str(text);
        self.col += text.chars().count();
        self.block_start = false;
    }

    /// One space before the next piece.
    pub fn space(&mut self) {
        self.pending = self.pending.max(1);
    }

    /// Spaces up to column `col` (at least one) before the next piece.
    pub fn pad_to(&mut self, col: usize) {
        self.pending = col.saturating_sub(self.col).max(1);
    }

    /// Puts `text` followed by `pos` as its source end, so trailing comments attach after it.
    pub fn put_at(&mut self, text: &str, end: usize) {
        self.put(text);
        self.last_end = self.last_end.max(end);
        self.tok_end = self.tok_end.max(end);
    }

    /// Writes the comments that open the file, keeping the blank lines between them and
    /// after them, up to the first token at `first`.
    pub fn start(&mut self, first: usize) {
        if self.comment_before(first).is_none() {
            return;
        }
        if self.own_line_comments(first, 0, true, false)
            && blank_between(self.src, self.last_end, first)
        {
            self.out.push('\n');
        }
        self.block_start = false;
    }

    /// Starts a new line of the current block, before the piece at `next` (keeping comments
    /// and one blank line from the source).
    pub fn line(&mut self, next: usize) {
        self.break_to(next, self.indent, true);
    }

    /// Starts a continuation line at column `col`, before the piece at `next`.
    pub fn cont_line(&mut self, next: usize, col: usize) {
        self.break_to(next, col, false);
    }

    /// Ends a block: comments inside it go on their own lines, then `}` one level out.
    pub fn close(&mut self, close_pos: usize, outer: usize, text: &str) {
        self.trailing(close_pos);
        self.newline();
        let own_line = self.own_line_comments(close_pos, self.indent, true, false);
        self.indent = outer;
        if own_line {
            self.spaces(outer);
        }
        self.put(text);
        self.last_end = self.last_end.max(close_pos + text.len());
        self.tok_end = self.tok_end.max(close_pos + text.len());
    }

    /// Opens a block: the caller has put `{`; the next lines are one level in.
    pub fn open(&mut self) {
        self.indent += 2;
        self.block_start = true;
    }

    fn break_to(&mut self, next: usize, col: usize, blank_ok: bool) {
        // A blank line anywhere between the last token and the next one is kept (once), so
        // whether two lines are apart depends only on the tokens, never on comments.
        let want_blank =
            blank_ok && !self.block_start && blank_between(self.src, self.tok_end, next);
        self.trailing(next);
        self.newline();
        let blanks = self.blank_lines;
        if !self.own_line_comments(next, col, want_blank, want_blank) {
            return;
        }
        if want_blank
            && (self.blank_lines == blanks || blank_between(self.src, self.last_end, next))
        {
            self.out.push('\n');
            self.blank_lines += 1;
        }
        self.spaces(col);
        // The break itself is the separator.
        self.pending = 0;
    }

    /// Comments after the last piece, on its source line and before `limit`, end this line.
    fn trailing(&mut self, limit: usize) {
        while let Some(c) = self.comment_before(limit) {
            // After a line comment, or once the source breaks the line, the rest of the
            // comments go on lines of their own.
            if self.must_break || self.slice(self.last_end, c.start as usize).contains('\n') {
                break;
            }
            self.write_comment(c);
        }
        if self.must_break {
            self.must_break = false;
        }
    }

    /// Writes the comments before `limit` on lines of their own at `col`, keeping the blank
    /// lines the source has before them if `keep_blanks`. With `want_blank`, a comment that
    /// stays on the line of the code after it gets the blank line the gap owes. Returns false
    /// when the last one is a block comment followed by code on its line (the line goes on).
    fn own_line_comments(
        &mut self,
        limit: usize,
        col: usize,
        keep_blanks: bool,
        want_blank: bool,
    ) -> bool {
        let blanks = self.blank_lines;
        while let Some(c) = self.comment_before(limit) {
            let text = self.text_of(c);
            let stays = !text.starts_with("//") && !self.line_ends_after(c.end as usize);
            let source_blank = blank_between(self.src, self.last_end, c.start as usize);
            if keep_blanks
                && !self.block_start
                && (source_blank || (want_blank && stays && self.blank_lines == blanks))
            {
                self.out.push('\n');
                self.blank_lines += 1;
            }
            self.spaces(col);
            self.pending = 0;
            self.write_comment(c);
            self.block_start = false;
            if stays {
                // `/* c */ code` on one line stays on one line.
                return false;
            }
            self.must_break = false;
            self.newline();
        }
        true
    }

    /// Comments before `pos` met in the middle of a line.
    fn comments_before(&mut self, pos: usize) {
        while let Some(c) = self.comment_before(pos) {
            if self.at_line_start() {
                let col = self.col + self.pending;
                self.out.truncate(self.out.trim_end_matches(' ').len());
                self.col = 0;
                if self.own_line_comments(pos, col, false, false) {
                    self.spaces(col);
                    self.pending = 0;
                }
            } else {
                self.write_comment(c);
            }
        }
    }

    /// Whether only whitespace follows `pos` on its source line.
    fn line_ends_after(&self, pos: usize) -> bool {
        let rest = self.src.get(pos..).unwrap_or_default();
        rest.split('\n').next().is_none_or(|l| l.trim().is_empty())
    }

    fn comment_before(&self, limit: usize) -> Option<Span> {
        if self.ignore_comments {
            return None;
        }
        let c = *self.comments.get(self.next_comment)?;
        ((c.start as usize) < limit).then_some(c)
    }

    fn write_comment(&mut self, c: Span) {
        let text = self.text_of(c).trim_end();
        if self.must_break {
            // Nothing may follow a line comment on its line.
            self.must_break = false;
            let indent = self.hang.unwrap_or(self.indent + 4);
            self.newline();
            self.spaces(indent);
        }
        if !self.at_line_start() {
            self.out.push(' ');
            self.col += 1;
        }
        self.pending = 0;
        self.out.push_str(text);
        self.col += text.chars().count();
        self.next_comment += 1;
        self.block_start = false;
        self.last_end = self.last_end.max(c.end as usize);
        if text.starts_with("//") {
            self.must_break = true;
        } else {
            self.pending = 1;
        }
    }

    fn flush_all(&mut self) {
        self.trailing(usize::MAX);
        if self.comment_before(usize::MAX).is_some() {
            self.newline();
            let _ = self.own_line_comments(usize::MAX, 0, true, false);
        }
    }

    fn at_line_start(&self) -> bool {
        self.out.is_empty()
            || self.out.ends_with('\n')
            || self.out[self.line_start()..].trim().is_empty()
    }

    fn line_start(&self) -> usize {
        self.out.rfind('\n').map_or(0, |i| i + 1)
    }

    fn newline(&mut self) {
        let keep = self.out.trim_end_matches(' ').len();
        self.out.truncate(keep);
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.col = 0;
        self.must_break = false;
    }

    fn spaces(&mut self, n: usize) {
        for _ in 0..n {
            self.out.push(' ');
        }
        self.col += n;
    }
}

/// Whether `src[start..end]` holds an empty line between two others.
pub fn blank_between(src: &str, start: usize, end: usize) -> bool {
    let Some(text) = src.get(start..end.min(src.len())) else {
        return false;
    };
    let mut lines = text.split('\n');
    lines.next();
    let middle: Vec<&str> = lines.collect();
    middle.len() >= 2
        && middle
            .iter()
            .take(middle.len() - 1)
            .any(|l| l.trim().is_empty())
}
