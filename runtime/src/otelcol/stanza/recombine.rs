//! `recombine`: joins consecutive entries of one source (`source_identifier`, default the
//! file path attribute) into one, their `combine_field` texts joined with `combine_with`.
//! A batch ends before an entry matching `is_first_entry`, or after one matching
//! `is_last_entry`; also when it holds `max_batch_size` entries, when its text reaches
//! `max_log_size` bytes, when `max_unmatched_batch_size` entries came without a match, or
//! when its first entry waited `force_flush_period`. The combined entry is the oldest
//! (`overwrite_with = "oldest"`, the default) or newest entry with the joined text.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::config::Conf;
use super::entry::{Entry, Field, Val};
use super::expr::Expr;
use super::{Operator, Rejected};

enum Boundary {
    First(Expr),
    Last(Expr),
}

struct Batch {
    entries: Vec<Entry>,
    started: Instant,
    bytes: usize,
    /// Whether the batch began with a first-entry match.
    matched: bool,
}

pub struct Recombine {
    combine_field: Field,
    boundary: Option<Boundary>,
    combine_with: String,
    source: Field,
    max_batch_size: usize,
    max_unmatched: usize,
    max_log_size: usize,
    max_sources: usize,
    flush_after: Duration,
    newest: bool,
    batches: BTreeMap<String, Batch>,
}

pub fn build(c: &mut Conf<'_>) -> Box<dyn Operator> {
    let combine_field = c.required_field("combine_field", "recombine");
    let first = c.expr("is_first_entry");
    let last = c.expr("is_last_entry");
    let boundary = match (first, last, c.has("is_first_entry"), c.has("is_last_entry")) {
        (_, _, true, true) => {
            c.error("is_last_entry", "only one of is_first_entry and is_last_entry can be set");
            None
        }
        (_, _, false, false) => {
            c.error("", "one of is_first_entry and is_last_entry must be set");
            None
        }
        (Some(x), _, _, _) => Some(Boundary::First(x)),
        (_, Some(x), _, _) => Some(Boundary::Last(x)),
        _ => None,
    };
    let combine_with = c.string_or("combine_with", "\n");
    let source = c.field_or("source_identifier", Field::attribute("log.file.path"));
    let max_batch_size = c.number_or("max_batch_size", 1000.0).max(1.0) as usize;
    let max_unmatched = c.number_or("max_unmatched_batch_size", 100.0).max(0.0) as usize;
    let max_sources = c.number_or("max_sources", 1000.0).max(1.0) as usize;
    let max_log_size = c.byte_size_or("max_log_size", 0);
    let flush_after = c.duration_or("force_flush_period", Duration::from_secs(5));
    let newest = match c.string_or("overwrite_with", "oldest").as_str() {
        "oldest" => false,
        "newest" => true,
        other => {
            c.error("overwrite_with", format!("invalid value {other:?} for parameter 'overwrite_with': expected \"oldest\" or \"newest\""));
            false
        }
    };
    Box::new(Recombine {
        combine_field,
        boundary,
        combine_with,
        source,
        max_batch_size,
        max_unmatched,
        max_log_size,
        max_sources,
        flush_after,
        newest,
        batches: BTreeMap::new(),
    })
}

impl Recombine {
    /// The recombine the `container` parser runs on CRI lines: partial lines (`logtag` `P`)
    /// joined without separator up to the full one (`F`), per file, as upstream configures it.
    pub fn cri_partials(max_log_size: usize) -> Recombine {
        Recombine {
            combine_field: Field::body(),
            boundary: Expr::parse("attributes.logtag == 'F'").ok().map(Boundary::Last),
            combine_with: String::new(),
            source: Field::attribute("log.file.path"),
            max_batch_size: 1000,
            max_unmatched: 100,
            max_log_size,
            max_sources: 1000,
            flush_after: Duration::from_secs(5),
            newest: false,
            batches: BTreeMap::new(),
        }
    }

    fn text(&self, e: &Entry) -> String {
        self.combine_field.get(e).and_then(Val::to_text).unwrap_or_default()
    }

    /// One entry for a whole batch.
    fn combine(&self, batch: Batch) -> Option<Entry> {
        let texts: Vec<String> = batch.entries.iter().map(|e| self.text(e)).collect();
        let mut entries = batch.entries;
        let mut base = if self.newest { entries.pop()? } else { entries.into_iter().next()? };
        self.combine_field.set(&mut base, Val::Str(texts.join(&self.combine_with)));
        Some(base)
    }

    fn add(&mut self, source: &str, e: Entry, first_match: bool) {
        let bytes = self.text(&e).len();
        let batch =
            self.batches.entry(source.to_string()).or_insert_with(|| Batch { entries: Vec::new(), started: Instant::now(), bytes: 0, matched: first_match });
        batch.bytes += bytes + if batch.entries.is_empty() { 0 } else { self.combine_with.len() };
        batch.entries.push(e);
    }

    fn flush_source(&mut self, source: &str, out: &mut Vec<Entry>) {
        if let Some(b) = self.batches.remove(source) {
            out.extend(self.combine(b));
        }
    }

    /// Whether the batch of `source` is full by any of the limits.
    fn full(&self, source: &str) -> bool {
        self.batches.get(source).is_some_and(|b| {
            b.entries.len() >= self.max_batch_size
                || (self.max_log_size > 0 && b.bytes >= self.max_log_size)
                || (!b.matched && self.max_unmatched > 0 && b.entries.len() >= self.max_unmatched)
        })
    }
}

impl Operator for Recombine {
    fn process(&mut self, e: Entry, out: &mut Vec<Entry>) -> Result<(), Rejected> {
        let source = self.source.get(&e).and_then(Val::to_text).unwrap_or_else(|| "DefaultSourceIdentifier".into());
        let Some(boundary) = &self.boundary else {
            out.push(e);
            return Ok(());
        };
        let (expr, is_first) = match boundary {
            Boundary::First(x) => (x, true),
            Boundary::Last(x) => (x, false),
        };
        let matched = match expr.matches(&e) {
            Ok(m) => m,
            Err(why) => return Err(Rejected::new(e, why)),
        };
        if !self.batches.contains_key(&source) && self.batches.len() >= self.max_sources {
            // Too many sources at once: everything held goes out.
            let sources: Vec<String> = self.batches.keys().cloned().collect();
            for s in sources {
                self.flush_source(&s, out);
            }
        }
        if is_first {
            if matched {
                self.flush_source(&source, out);
            }
            self.add(&source, e, matched);
        } else {
            self.add(&source, e, false);
            if matched {
                self.flush_source(&source, out);
            }
        }
        if self.full(&source) {
            self.flush_source(&source, out);
        }
        Ok(())
    }

    fn flush(&mut self, now: Instant, all: bool, out: &mut Vec<Entry>) {
        let due: Vec<String> = self.batches.iter().filter(|(_, b)| all || now.duration_since(b.started) >= self.flush_after).map(|(s, _)| s.clone()).collect();
        for s in due {
            self.flush_source(&s, out);
        }
    }
}
