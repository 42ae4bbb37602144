//! The aligner: Go's `text/tabwriter` with the flags upstream's printer uses
//! (minwidth 0, tabwidth 8, padding 1, pad char ' ', `DiscardEmptyColumns | TabIndent`).
//!
//! The whole printer buffer is available at once, so cells are byte ranges into it instead of
//! copies. Output goes to a [`Sink`] in the same chunks Go's writer would hand its output
//! writer (cell text, padding, newline), because the trimmer downstream is chunk-sensitive.

/// Bytes between two `ESC` bytes are opaque text (comments).
pub const ESC: u8 = 0xFF;

const TAB_WIDTH: usize = 8;
const PADDING: usize = 1;

/// Where the aligner writes to.
pub trait Sink {
    fn write(&mut self, chunk: &[u8]);
}

/// A cell: a byte range of the input, without its terminator. Its width is only needed for
/// cells that belong to a column (most text is in line-final cells), so it is computed lazily.
#[derive(Clone, Copy, Debug)]
struct Cell {
    start: u32,
    end: u32,
    /// Terminated by HT (hard) rather than VT (soft).
    htab: bool,
}

impl Cell {
    fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// Code points, `ESC` bytes excluded (Go counts runes and subtracts the two escapes).
    fn width(self, input: &[u8]) -> usize {
        input[self.start as usize..self.end as usize].iter().filter(|&&b| b != ESC && !is_continuation(b)).count()
    }
}

/// One level of `format`'s recursion: lines not yet written start at `line0`; `this` is the
/// next line to examine.
struct Frame {
    line0: usize,
    this: usize,
    line1: usize,
}

/// Byte classes for the scanner: 1 = cell terminator (HT VT LF FF), 2 = `ESC`.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'\t' as usize] = 1;
    t[0x0b] = 1;
    t[b'\n' as usize] = 1;
    t[0x0c] = 1;
    t[ESC as usize] = 2;
    t
};

/// Reusable aligner state: the buffered section's cells and the column widths in effect.
#[derive(Default)]
pub struct TabWriter {
    cells: Vec<Cell>,
    /// Index into `cells` where each buffered line starts; the current line is the last one.
    line_starts: Vec<u32>,
    widths: Vec<usize>,
    stack: Vec<Frame>,
}

const TABS: &[u8] = b"\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
const SPACES: &[u8] = &[b' '; 128];

impl TabWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Aligns all of `input` into `out` (the equivalent of one `Write` followed by `Flush`).
    pub fn run<S: Sink>(&mut self, input: &[u8], out: &mut S) {
        self.reset();
        let mut cell_start = 0usize;
        let mut i = 0usize;
        let n = input.len();
        while i < n {
            // Skip ordinary text.
            while i < n && CLASS[input[i] as usize] == 0 {
                i += 1;
            }
            if i >= n {
                break;
            }
            let ch = input[i];
            if ch == ESC {
                // Escaped text is opaque: jump to the closing ESC (or the end).
                i += 1;
                while i < n && input[i] != ESC {
                    i += 1;
                }
                i += 1;
                continue;
            }
            let ncells = self.terminate_cell(cell_start, i, ch == b'\t');
            cell_start = i + 1;
            if ch == b'\n' || ch == b'\x0c' {
                self.line_starts.push(self.cells.len() as u32);
                // A line of one cell cannot influence later lines' alignment, and a form feed
                // always ends the section.
                if ch == b'\x0c' || ncells == 1 {
                    self.flush(input, out);
                }
            }
            i += 1;
        }
        // Go's Flush: a non-empty current cell (even an unterminated escape) becomes a cell.
        if cell_start < n {
            self.terminate_cell(cell_start, n, false);
        }
        self.flush(input, out);
    }

    fn reset(&mut self) {
        self.cells.clear();
        self.line_starts.clear();
        self.line_starts.push(0);
        self.widths.clear();
    }

    /// Appends a cell to the current line; returns the line's cell count.
    fn terminate_cell(&mut self, start: usize, end: usize, htab: bool) -> usize {
        self.cells.push(Cell { start: start as u32, end: end as u32, htab });
        let line_start = self.line_starts.last().copied().unwrap_or(0) as usize;
        self.cells.len() - line_start
    }

    fn line(&self, i: usize) -> &[Cell] {
        let start = self.line_starts[i] as usize;
        let end = self.line_starts.get(i + 1).map_or(self.cells.len(), |&e| e as usize);
        &self.cells[start..end]
    }

    fn flush<S: Sink>(&mut self, input: &[u8], out: &mut S) {
        let n = self.line_starts.len();
        self.format(input, out, 0, n);
        self.reset();
    }

    /// Go's `format`: finds blocks of consecutive lines sharing column `widths.len()`, fixes
    /// that column's width and recurses to the columns on its right.
    ///
    /// The recursion is run on an explicit stack: its depth is the number of columns, and a
    /// line can have as many columns as it has tabs (a string literal full of tabs, say).
    fn format<S: Sink>(&mut self, input: &[u8], out: &mut S, line0: usize, line1: usize) {
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.push(Frame { line0, this: line0, line1 });
        while let Some(f) = stack.last_mut() {
            let column = self.widths.len();
            let (mut this, line1) = (f.this, f.line1);
            while this < line1 && column + 1 >= self.line(this).len() {
                this += 1;
            }
            if this >= line1 {
                let line0 = f.line0;
                stack.pop();
                self.write_lines(input, out, line0, line1);
                if let Some(parent) = stack.last_mut() {
                    self.widths.pop();
                    // Go's loop increment skips the line that ended the block; it has no cell
                    // in this column, so skipping it changes nothing.
                    parent.line0 = parent.this;
                    parent.this += 1;
                }
                continue;
            }
            let line0 = f.line0;
            self.write_lines(input, out, line0, this);

            let block_start = this;
            let mut width = 0usize;
            let mut discardable = true;
            while this < line1 {
                let line = self.line(this);
                if column + 1 >= line.len() {
                    break;
                }
                let c = line[column];
                let w = c.width(input);
                width = width.max(w + PADDING);
                if w > 0 || c.htab {
                    discardable = false;
                }
                this += 1;
            }
            if discardable {
                width = 0;
            }
            if let Some(f) = stack.last_mut() {
                f.line0 = block_start;
                f.this = this;
            }
            self.widths.push(width);
            stack.push(Frame { line0: block_start, this: block_start, line1: this });
        }
        self.stack = stack;
    }

    fn write_lines<S: Sink>(&self, input: &[u8], out: &mut S, line0: usize, line1: usize) {
        let nlines = self.line_starts.len();
        for i in line0..line1 {
            let mut use_tabs = true;
            for (j, c) in self.line(i).iter().enumerate() {
                if c.is_empty() {
                    if let Some(&w) = self.widths.get(j) {
                        write_padding(out, 0, w, use_tabs);
                    }
                } else {
                    use_tabs = false;
                    out.write(&input[c.start as usize..c.end as usize]);
                    if let Some(&w) = self.widths.get(j) {
                        write_padding(out, c.width(input), w, false);
                    }
                }
            }
            // The last buffered line is the unterminated one; its text (if any) was turned
            // into a cell above, so there is nothing more to write for it.
            if i + 1 != nlines {
                out.write(b"\n");
            }
        }
    }
}

fn write_padding<S: Sink>(out: &mut S, textw: usize, cellw: usize, use_tabs: bool) {
    if use_tabs {
        let cellw = cellw.div_ceil(TAB_WIDTH) * TAB_WIDTH;
        let n = cellw.saturating_sub(textw);
        write_n(out, TABS, n.div_ceil(TAB_WIDTH));
    } else {
        write_n(out, SPACES, cellw.saturating_sub(textw));
    }
}

/// Writes `n` bytes of a repeated filler. Long runs go out in several chunks, which the trimmer
/// cannot tell from one: a run of blanks is only ever held back.
fn write_n<S: Sink>(out: &mut S, filler: &[u8], mut n: usize) {
    while n > 0 {
        let k = n.min(filler.len());
        out.write(&filler[..k]);
        n -= k;
    }
}

/// UTF-8 continuation bytes do not start a code point.
fn is_continuation(b: u8) -> bool {
    (0x80..0xC0).contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Sink for Vec<u8> {
        fn write(&mut self, chunk: &[u8]) {
            self.extend_from_slice(chunk);
        }
    }

    fn align(input: &str) -> String {
        let mut out = Vec::new();
        TabWriter::new().run(input.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn aligns_soft_columns() {
        assert_eq!(align("a\x0b= 1\nbbb\x0b= 2\nc"), "a   = 1\nbbb = 2\nc");
    }

    #[test]
    fn trailing_cell_is_not_a_column() {
        assert_eq!(align("a\x0bx\nbb\x0byyyyyy\n"), "a  x\nbb yyyyyy\n");
    }

    #[test]
    fn leading_empty_hard_cells_become_tabs() {
        assert_eq!(align("\ta\x0b= 1\n\tbb\x0b= 2\n"), "\ta  = 1\n\tbb = 2\n");
    }

    #[test]
    fn form_feed_ends_section() {
        assert_eq!(align("a\x0b= 1\x0cbbb\x0b= 2\n"), "a = 1\nbbb = 2\n");
    }

    #[test]
    fn one_cell_line_ends_section() {
        assert_eq!(align("a\x0b= 1\nplain\nbbb\x0b= 2\n"), "a = 1\nplain\nbbb = 2\n");
    }

    #[test]
    fn empty_soft_columns_are_discarded() {
        assert_eq!(align("\x0bx\n\x0by\n"), "x\ny\n");
    }

    #[test]
    fn escaped_text_is_opaque_and_counts_code_points() {
        // The tab inside the escape does not split the cell; ESC bytes have no width.
        let input = b"\xff\xc3\xa9\t\xff\x0ba\nbb\x0bc\n";
        let mut out = Vec::new();
        TabWriter::new().run(input, &mut out);
        assert_eq!(out, b"\xff\xc3\xa9\t\xff a\nbb c\n");
    }

    #[test]
    fn wide_first_column_pads_leading_tab_cell_with_more_tabs() {
        // The second line's leading empty hard cell shares column 0 with a 9-wide cell.
        assert_eq!(align("bbbbbbbb\x0b= 2\n\ty\x0bz\n"), "bbbbbbbb = 2\n\t\ty z\n");
    }

    #[test]
    fn many_columns_do_not_overflow_the_stack() {
        let line = "x\t".repeat(200_000);
        let out = align(&format!("{line}\n{line}\n"));
        let spaced = line.replace('\t', " ");
        assert_eq!(out, format!("{spaced}\n{spaced}\n"));
    }

    #[test]
    fn nested_blocks_of_columns() {
        assert_eq!(align("a\tb\tc\naa\tb\n"), "a  b c\naa b\n");
    }
}
