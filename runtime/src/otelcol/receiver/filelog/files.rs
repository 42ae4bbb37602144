//! The files `include` and `exclude` select, each read by a [`Reader`] (the Loki file
//! source's tailer: rotation, truncation, encodings; or its gzip reader) and split into entry
//! texts by a [`Joiner`].
//!
//! A file seen for the first time resumes where its fingerprint says it was read to
//! ([`Known`]); otherwise it starts at its beginning, or, with `start_at = "end"`, at its end
//! when it was there at the first poll (files that appear later are read whole, as upstream).
//! A file that stops matching (renamed away, deleted) is read to its end before it is let go.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::header::{Header, HeaderRules};
use super::multiline::{Joiner, Rules};
use super::offsets::Known;
use super::ordering::Ordering;
use super::reader::{Compression, Reader};
use crate::file_glob::glob::Glob;
use crate::loki::source::file::charset::Charset;
use crate::loki::source::file::tailer::read_head;
use crate::otelcol::stanza::entry::Val;

pub struct Settings {
    pub include: Vec<Glob>,
    pub exclude: Vec<Glob>,
    pub start_at_beginning: bool,
    pub fingerprint_size: usize,
    pub charset: Charset,
    pub exclude_older_than: Duration,
    /// How many files one poll reads at most (`max_concurrent_files` / 2 × `max_batches`).
    pub max_files: Option<usize>,
    pub rules: Rules,
    pub force_flush: Duration,
    /// Delete each file once it was read to its end.
    pub delete_after_read: bool,
    /// Look up each file's owner and group names.
    pub owner: bool,
    pub compression: Compression,
    pub ordering: Ordering,
}

struct Followed {
    reader: Reader,
    /// The fingerprint of the file the reader reads, as last seen.
    fingerprint: Vec<u8>,
    joiner: Joiner,
    /// Since when an unterminated last line has waited for its newline.
    partial_since: Option<Instant>,
    about: About,
    header: Header,
}

impl Followed {
    /// A line read: into the header while it lasts, else to the entry in the making.
    fn deliver(&mut self, line: String, now: Instant, rules: &mut Option<HeaderRules>, problems: &mut Vec<String>, texts: &mut Vec<String>) {
        if let Some(rules) = rules {
            if rules.take(&mut self.header, &line, problems) {
                self.about.header = self.header.attributes.clone();
                return;
            }
        }
        self.joiner.push(line, now, texts);
    }
}

/// What records from a file say about it besides its path.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct About {
    /// The path with symbolic links resolved.
    pub resolved: PathBuf,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// What the file's header said (`header`).
    pub header: BTreeMap<String, Val>,
}

/// Entry texts read from one file.
#[derive(Debug, PartialEq)]
pub struct Texts {
    pub path: PathBuf,
    pub about: About,
    pub texts: Vec<String>,
}

pub struct FileSet {
    settings: Settings,
    files: BTreeMap<PathBuf, Followed>,
    pub known: Known,
    first_poll: bool,
    /// What went wrong since the component last looked, for its log.
    pub problems: Vec<String>,
    header_rules: Option<HeaderRules>,
}

/// The first `size` bytes of the file at `path` (empty when it cannot be read).
fn fingerprint(path: &Path, size: usize) -> Vec<u8> {
    File::open(path).map(|f| read_head(&f, size)).unwrap_or_default()
}

impl FileSet {
    pub fn new(settings: Settings, known: Known, header_rules: Option<HeaderRules>) -> FileSet {
        FileSet { settings, files: BTreeMap::new(), known, first_poll: true, problems: Vec::new(), header_rules }
    }

    /// The regular files matched now, sorted, at most `max_files`.
    fn matching(&self) -> Vec<PathBuf> {
        let oldest = (!self.settings.exclude_older_than.is_zero()).then(|| SystemTime::now().checked_sub(self.settings.exclude_older_than)).flatten();
        let mut out: Vec<String> = self.settings.include.iter().flat_map(Glob::expand).collect();
        out.sort();
        out.dedup();
        let paths: Vec<PathBuf> = out
            .into_iter()
            .filter(|p| !self.settings.exclude.iter().any(|x| x.matches_path(p)))
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && oldest.is_none_or(|o| m.modified().is_ok_and(|t| t >= o))))
            .map(PathBuf::from)
            .collect();
        let mut paths = self.settings.ordering.apply(paths);
        if let Some(max) = self.settings.max_files {
            paths.truncate(max);
        }
        paths
    }

    fn follow(&mut self, path: PathBuf) {
        let fp = fingerprint(&path, self.settings.fingerprint_size);
        // Another path reading the same file (a link, a copy being made): read it once.
        if !fp.is_empty() && self.files.values().any(|f| f.fingerprint == fp) {
            return;
        }
        let compressed = self.settings.compression.applies_to(&path);
        let offset = match self.known.lookup(&fp) {
            Some(o) => Some(o),
            // A compressed file's end in decompressed bytes is not known without reading it.
            None if self.first_poll && !self.settings.start_at_beginning && compressed => None,
            None if self.first_poll && !self.settings.start_at_beginning => Some(std::fs::metadata(&path).map_or(0, |m| m.len())),
            None => Some(0),
        };
        let reader = Reader::new(path.clone(), offset, compressed, self.settings.charset, self.settings.rules.max_bytes);
        let resolved = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        let (owner, group) = if self.settings.owner { super::owner::owner_and_group(&path) } else { (None, None) };
        let header = match (&mut self.header_rules, compressed) {
            (Some(rules), false) => rules.resume(&path, offset.unwrap_or(0), self.settings.charset, &mut self.problems),
            _ => Header { done: true, ..Header::default() },
        };
        let about = About { resolved, owner, group, header: header.attributes.clone() };
        self.files.insert(path, Followed { reader, fingerprint: fp, joiner: Joiner::new(self.settings.rules.clone()), partial_since: None, about, header });
    }

    /// Reads every matched file once; the texts read, and whether a file has more to read now.
    pub fn poll(&mut self, now: Instant) -> (Vec<Texts>, bool) {
        let matched = self.matching();
        let mut out = Vec::new();
        let mut more = false;
        let paths: Vec<PathBuf> = self.files.keys().cloned().collect();
        for path in paths {
            let still = matched.binary_search(&path).is_ok();
            let (more_here, done) = self.read(&path, now, !still, &mut out);
            more |= more_here;
            if !still || done {
                self.files.remove(&path);
            }
        }
        for path in matched {
            if !self.files.contains_key(&path) {
                self.follow(path.clone());
                let (more_here, done) = self.read(&path, now, false, &mut out);
                more |= more_here;
                if done {
                    self.files.remove(&path);
                }
            }
        }
        self.first_poll = false;
        (out, more)
    }

    /// Reads one followed file; `last`: it is let go after this read, so nothing is held back.
    /// Returns whether it has more to read now, and whether it was deleted (read to its end
    /// with `delete_after_read`).
    fn read(&mut self, path: &Path, now: Instant, last: bool, out: &mut Vec<Texts>) -> (bool, bool) {
        let size = self.settings.fingerprint_size;
        let force_flush = self.settings.force_flush;
        let FileSet { files, known, problems, header_rules, settings, .. } = self;
        let Some(f) = files.get_mut(path) else { return (false, false) };
        let polled = f.reader.poll();
        if let Some(e) = &polled.error {
            problems.push(e.clone());
        }
        // Read to its end: its last line, even unterminated, goes out before it is deleted.
        let at_end = match &f.reader {
            Reader::Plain(_) => !polled.more && polled.size.is_some(),
            Reader::Gzip(_) | Reader::Skipped => f.reader.finished(),
        };
        let delete = settings.delete_after_read && at_end;
        let last = last || delete;
        let mut texts = Vec::new();
        let mut lines = polled.lines;
        if let Some(rotation) = polled.rotated {
            // The old file was read to its end: its entries go out with its header, its offset
            // is kept, and the new file starts afresh.
            let new_lines = lines.split_off(rotation.old_lines.min(lines.len()));
            for line in lines {
                f.deliver(line, now, header_rules, problems, &mut texts);
            }
            f.joiner.flush(&mut texts);
            if !texts.is_empty() {
                out.push(Texts { path: path.to_path_buf(), about: f.about.clone(), texts: std::mem::take(&mut texts) });
            }
            known.put(&f.fingerprint, rotation.end);
            f.fingerprint = f.reader.head(size).unwrap_or_else(|| fingerprint(path, size));
            f.header = Header { done: header_rules.is_none(), ..Header::default() };
            f.about.header.clear();
            lines = new_lines;
        }
        for line in lines {
            f.deliver(line, now, header_rules, problems, &mut texts);
        }
        if polled.bytes > 0 {
            // The file read, not the path's: a rotated file drained over several polls keeps
            // its own fingerprint until it is let go.
            f.fingerprint = f.reader.head(size).unwrap_or_else(|| fingerprint(path, size));
        }
        // A last line without its newline goes out once it waited `force_flush_period`.
        if f.reader.has_partial() {
            let since = *f.partial_since.get_or_insert(now);
            if now.duration_since(since) >= force_flush || last {
                if let Some(line) = f.reader.flush_partial() {
                    f.deliver(line, now, header_rules, problems, &mut texts);
                }
                f.partial_since = None;
            }
        } else {
            f.partial_since = None;
        }
        if last {
            f.joiner.flush(&mut texts);
        } else {
            f.joiner.flush_due(now, force_flush, &mut texts);
        }
        if !matches!(f.reader, Reader::Skipped) {
            known.put(&f.fingerprint, f.reader.offset());
        }
        if !texts.is_empty() {
            out.push(Texts { path: path.to_path_buf(), about: f.about.clone(), texts });
        }
        if delete {
            if let Err(e) = std::fs::remove_file(path) {
                // Not ours to delete: it is let go all the same, and said so.
                problems.push(format!("could not delete {} after reading it: {e}", path.display()));
            }
        }
        (polled.more, delete)
    }

    /// Sends every entry held for its continuation (at shutdown).
    pub fn flush(&mut self) -> Vec<Texts> {
        let mut out = Vec::new();
        for (path, f) in &mut self.files {
            let mut texts = Vec::new();
            f.joiner.flush(&mut texts);
            if !texts.is_empty() {
                out.push(Texts { path: path.clone(), about: f.about.clone(), texts });
            }
        }
        out
    }

    /// The followed paths and their offsets (debug info).
    pub fn offsets(&self) -> Vec<(PathBuf, u64)> {
        self.files.iter().map(|(p, f)| (p.clone(), f.reader.offset())).collect()
    }
}
