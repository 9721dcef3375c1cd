//! The formatter's output buffer: indentation, line breaks, and the comments of the source.
//!
//! The printers (`items.rs`, `expr.rs`) walk the syntax tree and tell the writer what to put
//! and where each piece came from in the source. The writer owns everything that depends on
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
    col: usize,
    indent: usize,
    must_break: bool,
    pending: usize,
    block_start: bool,
    ignore_comments: bool,
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
            col: 0,
            indent: 0,
            must_break: false,
            pending: 0,
            block_start: true,
            ignore_comments: false,
            refusals: Vec::new(),
        }
    }

    pub fn mark(&self) -> Mark {
        Mark {
            len: self.out.len(),
            next_comment: self.next_comment,
            last_end: self.last_end,
            col: self.col,
            indent: self.indent,
            must_break: self.must_break,
            pending: self.pending,
            block_start: self.block_start,
            ignore_comments: self.ignore_comments,
        }
    }

    /// Rewinds to `m`, returning what was written since.
    pub fn rewind(&mut self, m: Mark) -> String {
        let written = self.out.get(m.len..).unwrap_or_default().to_string();
        self.out.truncate(m.len);
        self.next_comment = m.next_comment;
        self.last_end = m.last_end;
        self.col = m.col;
        self.indent = m.indent;
        self.must_break = m.must_break;
        self.pending = m.pending;
        self.block_start = m.block_start;
        self.ignore_comments = m.ignore_comments;
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
    }

    /// Writes `text` that has no place of its own in the tree (punctuation).
    pub fn put(&mut self, text: &str) {
        if self.must_break {
            self.must_break = false;
            self.pending = 0;
            let indent = self.indent + 4;
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
        self.own_line_comments(close_pos, self.indent, true);
        self.indent = outer;
        self.spaces(outer);
        self.put(text);
        self.last_end = self.last_end.max(close_pos + text.len());
    }

    /// Opens a block: the caller has put `{`; the next lines are one level in.
    pub fn open(&mut self) {
        self.indent += 2;
        self.block_start = true;
    }

    fn break_to(&mut self, next: usize, col: usize, blank_ok: bool) {
        self.trailing(next);
        self.newline();
        self.own_line_comments(next, col, blank_ok);
        if blank_ok && !self.block_start && blank_between(self.src, self.last_end, next) {
            self.out.push('\n');
        }
        self.spaces(col);
        // The break itself is the separator.
        self.pending = 0;
    }

    /// Comments after the last piece, on its source line and before `limit`, end this line.
    fn trailing(&mut self, limit: usize) {
        while let Some(c) = self.comment_before(limit) {
            if self.slice(self.last_end, c.start as usize).contains('\n') {
                break;
            }
            self.write_comment(c);
        }
        if self.must_break {
            self.must_break = false;
        }
    }

    fn own_line_comments(&mut self, limit: usize, col: usize, blank_ok: bool) {
        while let Some(c) = self.comment_before(limit) {
            if blank_ok
                && !self.block_start
                && blank_between(self.src, self.last_end, c.start as usize)
            {
                self.out.push('\n');
            }
            self.spaces(col);
            self.pending = 0;
            self.write_comment(c);
            self.must_break = false;
            self.block_start = false;
            self.newline();
        }
    }

    /// Comments before `pos` met in the middle of a line.
    fn comments_before(&mut self, pos: usize) {
        while let Some(c) = self.comment_before(pos) {
            if self.at_line_start() {
                let col = self.col + self.pending;
                self.out.truncate(self.out.trim_end_matches(' ').len());
                self.col = 0;
                self.own_line_comments(pos, col, false);
                self.spaces(col);
                self.pending = 0;
            } else {
                self.write_comment(c);
            }
        }
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
        if !self.at_line_start() {
            self.pending = 0;
            self.must_break = false;
            self.out.push(' ');
            self.col += 1;
        }
        self.out.push_str(text);
        self.col += text.chars().count();
        self.next_comment += 1;
        self.last_end = self.last_end.max(c.end as usize);
        if text.starts_with("//") {
            self.must_break = true;
        }
    }

    fn flush_all(&mut self) {
        self.trailing(usize::MAX);
        if self.comment_before(usize::MAX).is_some() {
            self.newline();
            self.own_line_comments(usize::MAX, 0, true);
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
