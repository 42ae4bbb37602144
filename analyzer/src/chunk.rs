//! Cutting a file into chunks of whole top-level statements, so that an edit re-parses and
//! re-checks one chunk instead of the whole file.
//!
//! The cut is a cheap guess made without lexing: after a line holding only `}` (where a
//! formatted top-level block ends), once a chunk has reached its target size. The database
//! keeps a cut only when every chunk before the last parses without a diagnostic: then each
//! chunk ends in the lexer's default state, on a statement boundary and after a newline, so
//! parsing the chunks one by one gives the statements a whole-file parse gives (positions
//! shifted by the chunk's offset). A chunk with a syntax error is kept when parsing it
//! together with the next chunk gives both chunks' statements and diagnostics (the error stayed
//! inside, as an unterminated string being typed does). Otherwise (the guess cut a raw string,
//! or an unclosed `[` swallows what follows) it and everything after it form one last chunk,
//! parsed exactly as the whole-file parser would parse that remainder.

use std::ops::Range;

/// The default chunk size: big enough that a 5 MB file has a few hundred chunks (the per-edit
/// bookkeeping is per chunk), small enough that re-parsing and re-checking one takes well
/// under a millisecond.
pub const DEFAULT_TARGET: usize = 16 * 1024;

/// Consecutive ranges covering `text`: each but the last is at least `target` bytes long and
/// ends just after a line that holds only `}`. An empty text is one empty range.
pub fn split(text: &str, target: usize) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let finder = memchr::memmem::Finder::new(b"\n}");
    let target = target.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    'chunks: while bytes.len() - start > target {
        let mut from = start + target - 1;
        let end = loop {
            let Some(i) = finder.find(&bytes[from..]) else { break 'chunks };
            let after = from + i + 2;
            match (bytes.get(after), bytes.get(after + 1)) {
                (Some(b'\n'), _) => break after + 1,
                (Some(b'\r'), Some(b'\n')) => break after + 2,
                _ => from += i + 1,
            }
        };
        if end == bytes.len() {
            break;
        }
        out.push(start..end);
        start = end;
    }
    out.push(start..bytes.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str, target: usize) -> Vec<&str> {
        split(text, target).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn cuts_after_lone_closing_braces_once_the_target_is_reached() {
        let text = "a {\n  x = 1\n}\nb {\n}\r\nc {\n  d {\n  }\n}\n";
        assert_eq!(pieces(text, 1), ["a {\n  x = 1\n}\n", "b {\n}\r\n", "c {\n  d {\n  }\n}\n"]);
        assert_eq!(pieces(text, 14), ["a {\n  x = 1\n}\nb {\n}\r\n", "c {\n  d {\n  }\n}\n"]);
        assert_eq!(pieces(text, 1000), [text]);
    }

    #[test]
    fn the_pieces_cover_the_text() {
        for text in ["", "}", "\n}", "\n}\n", "a {\n}\n// end", "a {\n}x\n}\n\n}\n"] {
            for target in [1, 2, 3, 100] {
                assert_eq!(pieces(text, target).concat(), text, "{text:?} at {target}");
            }
        }
        assert_eq!(pieces("a {\n}x\n}\n\n}\n", 1), ["a {\n}x\n}\n", "\n}\n"]);
    }
}
