//! The aligner: Go's `text/tabwriter` with the flags upstream's printer uses
//! (minwidth 0, tabwidth 8, padding 1, pad char ' ', `DiscardEmptyColumns | TabIndent`).
//!
//! Text arrives in sections: a section ends where Go's writer flushes (a form feed, or a line
//! of a single cell, which cannot influence the alignment of later lines). Cells are byte
//! ranges into the section's text, so nothing is copied until the section is written out.
//! The printer feeds a [`Writer`], which cuts cells as it is handed the terminators instead
//! of scanning for them, and writes each section out as soon as it ends.
//!
//! Go finds the column blocks recursively: a block of column `j` is a run of consecutive lines
//! of the enclosing column-`j - 1` block that have a cell `j` other than their last cell. As
//! a line with that cell also has every cell to its left, the block of column `j` holding a
//! line is simply the longest run of consecutive lines around it that have more than `j + 1`
//! cells. Those runs are found in one pass over the lines, with one open run per column.

use super::trim::Trimmer;

/// Bytes between two `ESC` bytes are opaque text (comments).
pub const ESC: u8 = 0xFF;

const TAB_WIDTH: usize = 8;
const PADDING: u32 = 1;

/// A cell: a byte range of the section, without its terminator.
#[derive(Clone, Copy, Debug)]
struct Cell {
    start: u32,
    end: u32,
    /// Terminated by HT (hard) rather than VT (soft).
    htab: bool,
    /// Neither escaped text nor non-ASCII bytes: the width is the length, and nothing needs
    /// stripping.
    plain: bool,
    /// Code points, `ESC` bytes excluded; only set for cells that belong to a column.
    width: u32,
    /// The column block (index into `TabWriter::runs`) this cell is padded to, if it is not
    /// the last cell of its line.
    run: u32,
}

impl Cell {
    fn is_empty(self) -> bool {
        self.start == self.end
    }

    fn text(self, section: &[u8]) -> &[u8] {
        &section[self.start as usize..self.end as usize]
    }

    /// Go counts runes and subtracts the two escapes of each escaped segment.
    fn measure(self, section: &[u8]) -> u32 {
        if self.plain {
            return self.end - self.start;
        }
        self.text(section).iter().filter(|&&b| b != ESC && !is_continuation(b)).count() as u32
    }
}

/// A column block: the widest cell (plus padding) and whether it can be discarded (all its
/// cells empty and soft).
#[derive(Clone, Copy, Debug)]
struct Run {
    width: u32,
    discardable: bool,
}

impl Run {
    fn width(self) -> usize {
        if self.discardable {
            0
        } else {
            self.width as usize
        }
    }
}

/// Byte classes for the scanner: 1 = cell terminator (HT VT LF FF), 2 = `ESC`, 3 = other
/// non-ASCII.
static CLASS: [u8; 256] = {
    let mut t = [3u8; 256];
    let mut b = 0;
    while b < 0x80 {
        t[b] = 0;
        b += 1;
    }
    t[b'\t' as usize] = 1;
    t[0x0b] = 1;
    t[b'\n' as usize] = 1;
    t[0x0c] = 1;
    t[ESC as usize] = 2;
    t
};

/// The printer's output stage: text and whitespace go in, aligned and trimmed text comes out.
pub struct Writer {
    /// The current section's bytes (terminators included, so offsets match the input).
    section: Vec<u8>,
    tw: TabWriter,
    out: Trimmer,
    empty: bool,
    /// Debug builds keep all input to check the cells against a scan of it at the end.
    #[cfg(debug_assertions)]
    all: Vec<u8>,
}

impl Writer {
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            section: Vec::with_capacity(4096),
            tw: TabWriter::new(),
            out: Trimmer::with_capacity(n),
            empty: true,
            #[cfg(debug_assertions)]
            all: Vec::new(),
        }
    }

    /// Whether nothing at all has been written yet.
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// Text without escapes. Returns whether it was simple (see [`is_simple`]), so that the
    /// caller knows it holds no line break without looking again.
    pub fn text(&mut self, s: &[u8]) -> bool {
        self.empty &= s.is_empty();
        if is_simple(s) {
            self.section.extend_from_slice(s);
            return true;
        }
        let mut rest = s;
        while let Some(i) = rest.iter().position(|&b| CLASS[b as usize] == 1) {
            self.ordinary(&rest[..i]);
            self.blank(rest[i]);
            rest = &rest[i + 1..];
        }
        self.ordinary(rest);
        false
    }

    /// Text without terminators.
    fn ordinary(&mut self, s: &[u8]) {
        if !s.is_ascii() {
            self.tw.mark_complex();
        }
        self.section.extend_from_slice(s);
    }

    /// One whitespace byte: a space, or a cell terminator (HT, VT, LF, FF).
    #[inline]
    pub fn blank(&mut self, b: u8) {
        self.empty = false;
        let end = self.section.len();
        self.section.push(b);
        if b != b' ' {
            self.terminated(end, b);
        }
    }

    /// `n` tabs (indentation): empty hard cells, which never end a section.
    pub fn tabs(&mut self, n: usize) {
        self.empty &= n == 0;
        for _ in 0..n {
            self.tw.cell(self.section.len(), true);
            self.section.push(b'\t');
        }
    }

    fn terminated(&mut self, end: usize, b: u8) {
        if self.tw.terminate(&self.section, end, b, &mut self.out) {
            #[cfg(debug_assertions)]
            self.all.extend_from_slice(&self.section);
            self.section.clear();
        }
    }

    /// Escaped text: `ESC`, `s`, `ESC`, opaque to the aligner.
    pub fn escaped(&mut self, s: &[u8]) {
        self.empty = false;
        self.tw.mark_complex();
        self.section.push(ESC);
        self.section.extend_from_slice(s);
        self.section.push(ESC);
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.tw.finish(&self.section, &mut self.out);
        let out = self.out.finish();
        #[cfg(debug_assertions)]
        check_against_scan(&[&self.all[..], &self.section[..]].concat(), &out);
        out
    }
}

/// Debug builds: `out` is what scanning all of `input` for cells gives.
#[cfg(debug_assertions)]
fn check_against_scan(input: &[u8], out: &[u8]) {
    let mut scanned = Trimmer::with_capacity(out.len());
    TabWriter::new().run(input, &mut scanned);
    let scanned = scanned.finish();
    let differs = scanned.iter().zip(out).position(|(a, b)| a != b);
    if let Some(at) = differs.or((scanned.len() != out.len()).then_some(out.len().min(scanned.len()))) {
        let around = |t: &[u8]| String::from_utf8_lossy(&t[at.saturating_sub(40)..(at + 40).min(t.len())]).into_owned();
        panic!("cells cut while writing differ from a scan at byte {at}: {:?} instead of {:?}", around(out), around(&scanned));
    }
}

/// Whether every byte is ASCII above FF (0x0c): no cell terminator, no line break, no escape,
/// and one column a byte.
#[inline]
pub fn is_simple(s: &[u8]) -> bool {
    // Tokens are short: look at them in (overlapping) words rather than byte by byte.
    let n = s.len();
    if n >= 8 {
        let mut flags = s.chunks_exact(8).fold(0, |acc, w| acc | flag_bytes(word::<8>(w)));
        flags |= flag_bytes(word::<8>(&s[n - 8..]));
        return flags == 0;
    }
    if n >= 4 {
        return flag_bytes(word::<4>(&s[..4]) << 32 | word::<4>(&s[n - 4..])) == 0;
    }
    s.iter().all(|&b| (0x0d..0x80).contains(&b))
}

/// The first `N` (at most 8) bytes of `s` as the low bytes of a number.
fn word<const N: usize>(s: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes[..N].copy_from_slice(&s[..N]);
    u64::from_le_bytes(bytes)
}

/// Sets the top bit of each byte below 0x0d or above 0x7f (and maybe of bytes after one
/// below 0x0d, which a borrow reaches); zero exactly when there is none.
fn flag_bytes(x: u64) -> u64 {
    const LOW: u64 = u64::from_ne_bytes([0x0d; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    (x.wrapping_sub(LOW) | x) & HIGH
}

/// Aligner state for the current section. Buffers are kept between sections to be reused.
pub struct TabWriter {
    cells: Vec<Cell>,
    /// Index into `cells` where each line starts; the current line is the last one.
    line_starts: Vec<u32>,
    /// Column blocks of the section, and the open one of each column of the current line.
    runs: Vec<Run>,
    open: Vec<u32>,
    /// Where the current cell starts, and whether it is plain so far.
    cell_start: u32,
    cell_plain: bool,
}

impl TabWriter {
    pub fn new() -> Self {
        TabWriter { cells: Vec::new(), line_starts: vec![0], runs: Vec::new(), open: Vec::new(), cell_start: 0, cell_plain: true }
    }

    /// Aligns all of `input` into `out` (the equivalent of one `Write` followed by `Flush`),
    /// finding the cells by scanning.
    #[cfg(any(test, debug_assertions))]
    pub fn run(&mut self, input: &[u8], out: &mut Trimmer) {
        let mut base = 0usize;
        let mut i = 0usize;
        let n = input.len();
        while i < n {
            let ch = input[i];
            match CLASS[ch as usize] {
                0 => {
                    i += 1;
                    continue;
                }
                3 => {
                    self.mark_complex();
                    i += 1;
                    continue;
                }
                2 => {
                    // Escaped text is opaque: jump past the closing ESC (or to the end).
                    self.mark_complex();
                    i += 1 + input[i + 1..].iter().position(|&b| b == ESC).unwrap_or(n - i - 1);
                    i += 1;
                    continue;
                }
                _ => {}
            }
            if self.terminate(&input[base..=i], i - base, ch, out) {
                base = i + 1;
            }
            i += 1;
        }
        self.finish(&input[base..], out);
    }

    /// The current cell has escaped text or non-ASCII bytes.
    pub fn mark_complex(&mut self) {
        self.cell_plain = false;
    }

    /// Ends the current cell at `end`, the offset in `section` of its terminator `term` (HT,
    /// VT, LF or FF). Returns whether the section ended there and was written to `out`.
    pub fn terminate(&mut self, section: &[u8], end: usize, term: u8, out: &mut Trimmer) -> bool {
        self.cell(end, term == b'\t');
        if term != b'\n' && term != 0x0c {
            return false;
        }
        let line_start = self.line_starts.last().copied().unwrap_or(0) as usize;
        let flush = term == 0x0c || self.cells.len() - line_start == 1;
        if flush && self.line_starts.len() == 1 {
            // Most sections are a single line; it needs no column blocks.
            self.write_single_line(section, out);
            out.newline();
            self.reset();
            return true;
        }
        self.assign_runs(section);
        self.line_starts.push(self.cells.len() as u32);
        if flush {
            self.flush(section, out);
        }
        flush
    }

    /// Ends the current cell at `end` without ending the line.
    #[inline]
    pub fn cell(&mut self, end: usize, htab: bool) {
        self.cells.push(Cell { start: self.cell_start, end: end as u32, htab, plain: self.cell_plain, width: 0, run: 0 });
        self.cell_start = end as u32 + 1;
        self.cell_plain = true;
    }

    /// Writes a section's only line: each column block holds a single cell, so a cell is padded
    /// to its own width plus one, an empty hard cell to one tab (leading) or space, an empty
    /// soft cell to nothing.
    fn write_single_line(&self, section: &[u8], out: &mut Trimmer) {
        let Some((last, padded)) = self.cells.split_last() else { return };
        let mut leading = true;
        for &c in padded {
            if c.is_empty() {
                if c.htab {
                    out.blanks(if leading { b'\t' } else { b' ' }, 1);
                }
            } else {
                leading = false;
                write_text(out, section, c);
                // Only a soft cell of escapes alone has no width and so is discarded.
                let discarded = !c.htab && !c.plain && c.measure(section) == 0;
                out.blanks(b' ', usize::from(!discarded));
            }
        }
        write_text(out, section, *last);
    }

    /// Puts the current line's cells (but its last) into column blocks.
    fn assign_runs(&mut self, section: &[u8]) {
        let line_start = self.line_starts.last().copied().unwrap_or(0) as usize;
        let columns = (self.cells.len() - line_start).saturating_sub(1);
        // Blocks of columns this line does not reach end above it.
        self.open.truncate(columns);
        while self.open.len() < columns {
            self.open.push(self.runs.len() as u32);
            self.runs.push(Run { width: 0, discardable: true });
        }
        let cells = &mut self.cells[line_start..line_start + columns];
        for (c, &r) in cells.iter_mut().zip(&self.open) {
            c.width = c.measure(section);
            c.run = r;
            let run = &mut self.runs[r as usize];
            run.width = run.width.max(c.width + PADDING);
            run.discardable &= c.width == 0 && !c.htab;
        }
    }

    /// Ends the input: a non-empty current cell (even an unterminated escape) becomes a cell,
    /// as in Go's `Flush`, and everything is written out.
    pub fn finish(&mut self, section: &[u8], out: &mut Trimmer) {
        if (self.cell_start as usize) < section.len() {
            let cell = Cell { start: self.cell_start, end: section.len() as u32, htab: false, plain: self.cell_plain, width: 0, run: 0 };
            self.cells.push(cell);
        }
        self.flush(section, out);
    }

    /// Writes the section's lines; the last one is the unterminated current line.
    pub fn flush(&mut self, section: &[u8], out: &mut Trimmer) {
        self.assign_runs(section);
        let nlines = self.line_starts.len();
        for i in 0..nlines {
            self.write_line(section, out, i);
            if i + 1 != nlines {
                out.newline();
            }
        }
        self.reset();
    }

    fn reset(&mut self) {
        self.cells.clear();
        self.line_starts.truncate(1);
        self.runs.clear();
        self.open.clear();
        self.cell_start = 0;
        self.cell_plain = true;
    }

    fn write_line(&self, section: &[u8], out: &mut Trimmer, i: usize) {
        let start = self.line_starts[i] as usize;
        let end = self.line_starts.get(i + 1).map_or(self.cells.len(), |&e| e as usize);
        let Some((last, padded)) = self.cells[start..end].split_last() else { return };
        // Leading empty cells are padded with tabs (TabIndent).
        let mut use_tabs = true;
        for &c in padded {
            let width = self.runs[c.run as usize].width();
            if c.is_empty() {
                write_padding(out, 0, width, use_tabs);
            } else {
                use_tabs = false;
                write_text(out, section, c);
                write_padding(out, c.width as usize, width, false);
            }
        }
        write_text(out, section, *last);
    }
}

fn write_text(out: &mut Trimmer, section: &[u8], c: Cell) {
    if c.plain {
        out.text(c.text(section));
    } else {
        out.escaped(c.text(section));
    }
}

fn write_padding(out: &mut Trimmer, textw: usize, cellw: usize, use_tabs: bool) {
    if use_tabs {
        let cellw = cellw.div_ceil(TAB_WIDTH) * TAB_WIDTH;
        out.blanks(b'\t', cellw.saturating_sub(textw).div_ceil(TAB_WIDTH));
    } else {
        out.blanks(b' ', cellw.saturating_sub(textw));
    }
}

/// UTF-8 continuation bytes do not start a code point.
fn is_continuation(b: u8) -> bool {
    (0x80..0xC0).contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn align_bytes(input: &[u8]) -> Vec<u8> {
        let mut out = Trimmer::with_capacity(0);
        TabWriter::new().run(input, &mut out);
        out.finish()
    }

    fn align(input: &str) -> String {
        String::from_utf8(align_bytes(input.as_bytes())).unwrap()
    }

    #[test]
    fn simple_means_ascii_above_form_feed() {
        for n in 0..20 {
            for at in 0..n {
                for b in [0u8, b'\t', b'\n', 0x0b, 0x0c, 0x0d, b' ', b'a', 0x7f, 0x80, 0xc3, ESC] {
                    let mut s = vec![b'x'; n];
                    s[at] = b;
                    assert_eq!(is_simple(&s), s.iter().all(|&c| (0x0d..0x80).contains(&c)), "{s:?}");
                }
            }
        }
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
        assert_eq!(align_bytes(b"\xff\xc3\xa9\t\xff\x0ba\nbb\x0bc\n"), "\u{e9}\t a\nbb c\n".as_bytes());
    }

    #[test]
    fn wide_first_column_pads_leading_tab_cell_with_more_tabs() {
        // The second line's leading empty hard cell shares column 0 with a 9-wide cell.
        assert_eq!(align("bbbbbbbb\x0b= 2\n\ty\x0bz\n"), "bbbbbbbb = 2\n\t\ty z\n");
    }

    #[test]
    fn many_columns() {
        let line = "x\t".repeat(200_000);
        let out = align(&format!("{line}\n{line}\n"));
        let spaced = line.replace('\t', " ");
        assert_eq!(out, format!("{}\n{}\n", spaced.trim_end(), spaced.trim_end()));
    }

    #[test]
    fn nested_blocks_of_columns() {
        assert_eq!(align("a\tb\tc\naa\tb\n"), "a  b c\naa b\n");
    }

    /// Go's `text/tabwriter` and upstream's trimmer, transcribed as literally as possible
    /// (recursive `format`, output in the chunks Go's writer hands on), as the reference.
    mod reference {
        use super::super::ESC;

        #[derive(Clone, Copy, Default)]
        struct Cell {
            size: usize,
            width: usize,
            htab: bool,
        }

        #[derive(Default)]
        pub struct Go {
            buf: Vec<u8>,
            pos: usize,
            cell: Cell,
            in_escape: bool,
            lines: Vec<Vec<Cell>>,
            widths: Vec<usize>,
            pub out: Trim,
        }

        fn rune_count(b: &[u8]) -> usize {
            // Valid UTF-8 apart from ESC bytes, each of which Go counts as one rune.
            b.iter().filter(|&&c| !(0x80..0xC0).contains(&c)).count()
        }

        impl Go {
            pub fn new() -> Self {
                let mut g = Go::default();
                g.lines.push(Vec::new());
                g
            }

            fn update_width(&mut self) {
                self.cell.width += rune_count(&self.buf[self.pos..]);
                self.pos = self.buf.len();
            }

            fn append(&mut self, text: &[u8]) {
                self.buf.extend_from_slice(text);
                self.cell.size += text.len();
            }

            fn end_escape(&mut self) {
                self.update_width();
                self.cell.width -= 2;
                self.in_escape = false;
            }

            fn terminate_cell(&mut self, htab: bool) -> usize {
                self.cell.htab = htab;
                let line = self.lines.last_mut().unwrap();
                line.push(self.cell);
                self.cell = Cell::default();
                line.len()
            }

            pub fn write(&mut self, buf: &[u8]) {
                let mut n = 0;
                for (i, &ch) in buf.iter().enumerate() {
                    if !self.in_escape {
                        match ch {
                            b'\t' | 0x0b | b'\n' | 0x0c => {
                                self.append(&buf[n..i]);
                                self.update_width();
                                n = i + 1;
                                let ncells = self.terminate_cell(ch == b'\t');
                                if ch == b'\n' || ch == 0x0c {
                                    self.lines.push(Vec::new());
                                    if ch == 0x0c || ncells == 1 {
                                        self.flush();
                                    }
                                }
                            }
                            ESC => {
                                self.append(&buf[n..i]);
                                self.update_width();
                                n = i;
                                self.in_escape = true;
                            }
                            _ => {}
                        }
                    } else if ch == ESC {
                        self.append(&buf[n..i + 1]);
                        n = i + 1;
                        self.end_escape();
                    }
                }
                self.append(&buf[n..]);
            }

            pub fn flush(&mut self) {
                if self.cell.size > 0 {
                    if self.in_escape {
                        self.end_escape();
                    }
                    self.terminate_cell(false);
                }
                self.format(0, 0, self.lines.len());
                self.buf.clear();
                self.pos = 0;
                self.cell = Cell::default();
                self.in_escape = false;
                self.lines = vec![Vec::new()];
                self.widths.clear();
            }

            fn format(&mut self, pos0: usize, line0: usize, line1: usize) -> usize {
                let mut pos = pos0;
                let column = self.widths.len();
                let mut line0 = line0;
                let mut this = line0;
                while this < line1 {
                    if column + 1 >= self.lines[this].len() {
                        this += 1;
                        continue;
                    }
                    pos = self.write_lines(pos, line0, this);
                    line0 = this;
                    let mut width = 0;
                    let mut discardable = true;
                    while this < line1 {
                        let line = &self.lines[this];
                        if column + 1 >= line.len() {
                            break;
                        }
                        let c = line[column];
                        width = width.max(c.width + 1);
                        if c.width > 0 || c.htab {
                            discardable = false;
                        }
                        this += 1;
                    }
                    if discardable {
                        width = 0;
                    }
                    self.widths.push(width);
                    pos = self.format(pos, line0, this);
                    self.widths.pop();
                    line0 = this;
                    // Go's loop increment.
                    this += 1;
                }
                self.write_lines(pos, line0, line1)
            }

            fn write_lines(&mut self, mut pos: usize, line0: usize, line1: usize) -> usize {
                for i in line0..line1 {
                    let mut use_tabs = true;
                    for j in 0..self.lines[i].len() {
                        let c = self.lines[i][j];
                        if c.size == 0 {
                            if j < self.widths.len() {
                                self.write_padding(c.width, self.widths[j], use_tabs);
                            }
                        } else {
                            use_tabs = false;
                            let text = self.buf[pos..pos + c.size].to_vec();
                            self.out.write(&text);
                            pos += c.size;
                            if j < self.widths.len() {
                                self.write_padding(c.width, self.widths[j], false);
                            }
                        }
                    }
                    if i + 1 == self.lines.len() {
                        let text = self.buf[pos..pos + self.cell.size].to_vec();
                        self.out.write(&text);
                        pos += self.cell.size;
                    } else {
                        self.out.write(b"\n");
                    }
                }
                pos
            }

            fn write_padding(&mut self, textw: usize, cellw: usize, use_tabs: bool) {
                if use_tabs {
                    let cellw = cellw.div_ceil(8) * 8;
                    self.write_n(b'\t', (cellw - textw).div_ceil(8));
                } else {
                    self.write_n(b' ', cellw - textw);
                }
            }

            /// Go writes padding from a fixed buffer, in chunks of at most its size.
            fn write_n(&mut self, b: u8, mut n: usize) {
                while n > 0 {
                    let k = n.min(8);
                    self.out.write(&vec![b; k]);
                    n -= k;
                }
            }
        }

        /// Upstream's trimmer, a byte-level state machine.
        #[derive(Default)]
        pub struct Trim {
            state: u8, // 0 space, 1 escape, 2 text
            space: Vec<u8>,
            pub out: Vec<u8>,
        }

        impl Trim {
            pub fn write(&mut self, data: &[u8]) {
                let mut m = 0;
                for (n, &b) in data.iter().enumerate() {
                    let b = if b == 0x0b { b'\t' } else { b };
                    match (self.state, b) {
                        (0, b'\t' | b' ') => self.space.push(b),
                        (0, b'\n' | 0x0c) => {
                            self.space.clear();
                            self.out.push(b'\n');
                        }
                        (0, ESC) => {
                            self.out.append(&mut self.space);
                            self.state = 1;
                            m = n + 1;
                        }
                        (0, _) => {
                            self.out.append(&mut self.space);
                            self.state = 2;
                            m = n;
                        }
                        (1, ESC) => {
                            self.out.extend_from_slice(&data[m..n]);
                            self.state = 0;
                        }
                        (2, b'\t' | b' ') => {
                            self.out.extend_from_slice(&data[m..n]);
                            self.state = 0;
                            self.space.push(b);
                        }
                        (2, b'\n' | 0x0c) => {
                            self.out.extend_from_slice(&data[m..n]);
                            self.state = 0;
                            self.out.push(b'\n');
                        }
                        (2, ESC) => {
                            self.out.extend_from_slice(&data[m..n]);
                            self.state = 1;
                            m = n + 1;
                        }
                        _ => {}
                    }
                }
                if self.state != 0 {
                    self.out.extend_from_slice(&data[m..]);
                    self.state = 0;
                    self.space.clear();
                }
            }
        }
    }

    fn reference(input: &[u8]) -> Vec<u8> {
        let mut go = reference::Go::new();
        go.write(input);
        go.flush();
        go.out.out
    }

    #[test]
    fn reference_agrees_on_examples() {
        for input in ["a\x0b= 1\nbbb\x0b= 2\nc", "bbbbbbbb\x0b= 2\n\ty\x0bz\n", "a\tb\tc\naa\tb\n", "\x0bx\n\x0by\n"] {
            assert_eq!(reference(input.as_bytes()), align_bytes(input.as_bytes()), "{input:?}");
        }
    }

    /// Printer-shaped text: `\u{ff}` stands for ESC, and escapes are balanced.
    fn to_bytes(parts: &[&str]) -> Vec<u8> {
        let mut input = Vec::new();
        for c in parts.concat().chars() {
            if c == '\u{ff}' {
                input.push(ESC)
            } else {
                input.extend_from_slice(c.to_string().as_bytes())
            }
        }
        input
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The one-pass column blocks and the line-aware trimmer give what Go's recursive
        /// `format` followed by upstream's chunk-fed trimmer gives.
        #[test]
        fn matches_go_and_upstream_trimmer(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "a", "bb", "ccccccccc", "é", "日本", " ", "  ", "\t", "\t", "\x0b", "\x0b", "\n", "\n", "\x0c",
                "\u{ff}// c  \u{ff}", "\u{ff}/* x\n\t y */\u{ff}", "\u{ff}\u{ff}", "\u{ff}\té\x0b\u{ff}",
            ]),
            0..60,
        )) {
            let input = to_bytes(&parts);
            proptest::prop_assert_eq!(align_bytes(&input), reference(&input));
        }
    }
}
