//! `header`: the lines at a file's start that match `pattern` are its header. They are not
//! sent; each goes through the `metadata_operators` as an entry of its own, and the attributes
//! those leave are added to every record of the file. The header ends at the first line that
//! does not match. A file resumed past its start (a restart, a renamed file) has its header
//! read again from its beginning; a rotated file's successor starts a header of its own.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::loki::source::file::charset::Charset;
use crate::loki::source::file::tailer::Tailer;
use crate::otelcol::stanza::entry::{Entry, Val};
use crate::otelcol::stanza::Pipeline;

pub struct HeaderRules {
    pub pattern: regex::Regex,
    pub pipeline: Pipeline,
}

/// One file's header as read so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Header {
    pub done: bool,
    pub attributes: BTreeMap<String, Val>,
}

impl HeaderRules {
    /// Takes `line` into the header if it belongs there; `false`: it is a record (and the
    /// header is over).
    pub fn take(&mut self, header: &mut Header, line: &str, problems: &mut Vec<String>) -> bool {
        if header.done {
            return false;
        }
        if !self.pattern.is_match(line) {
            header.done = true;
            return false;
        }
        let (mut out, mut failures) = (Vec::new(), Vec::new());
        self.pipeline.process(Entry::with_body(line), &mut out, &mut failures);
        self.pipeline.flush(Instant::now(), true, &mut out, &mut failures);
        problems.extend(failures.into_iter().map(|f| format!("header operator {:?} failed: {}", f.operator, f.message)));
        for e in out {
            header.attributes.extend(e.attributes);
        }
        true
    }

    /// The header of a file read from `offset` on: read again from its start when the
    /// offset is past it.
    pub fn resume(&mut self, path: &Path, offset: u64, charset: Charset, problems: &mut Vec<String>) -> Header {
        let mut header = Header::default();
        if offset == 0 {
            return header;
        }
        let mut start = Tailer::new(path.to_path_buf(), 0, charset);
        for line in start.poll().lines {
            if !self.take(&mut header, &line, problems) {
                break;
            }
        }
        // What follows the offset is never header.
        header.done = true;
        header
    }
}
