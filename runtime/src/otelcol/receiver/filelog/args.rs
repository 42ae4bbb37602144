//! The receiver's arguments: decoded from the checked configuration, with the rules
//! `alloy validate` and `run` both apply (operator lists checked operator by operator).

use std::collections::BTreeMap;
use std::time::Duration;

use analyzer::rules::ArgError;
use eval::{PathSeg, Value};

use super::files::Settings;
use super::header::HeaderRules;
use super::multiline::{Rules, Split};
use super::ordering::Ordering;
use super::reader::Compression;
use crate::component::args::types::{Bytes, Dur};
use crate::component::{Arguments, ComponentError, Reader};
use crate::delivery::retry::RetryConfig;
use crate::delivery::storage::StorageDir;
use crate::file_glob::glob::Glob;
use crate::loki::source::file::charset::Charset;
use crate::otelcol::consumer::Output;
use crate::otelcol::stanza::config::from_eval;
use crate::otelcol::stanza::entry::Val;
use crate::otelcol::stanza::Pipeline;

/// Upstream's smallest fingerprint.
const MIN_FINGERPRINT: u64 = 16;

/// `multiline`: exactly one of the patterns.
#[derive(Default)]
struct Multiline(Option<Split>, bool);

impl Arguments for Multiline {
    fn decode(r: &mut Reader<'_>) -> Self {
        let start: Option<String> = r.opt("line_start_pattern");
        let end: Option<String> = r.opt("line_end_pattern");
        let omit = r.get("omit_pattern");
        let compile = |r: &mut Reader<'_>, name: &str, p: &str| match regex::Regex::new(p) {
            Ok(re) => Some(re),
            Err(e) => {
                r.error(name, format!("compile {name} regex: {e}"));
                None
            }
        };
        let split = match (start, end) {
            (Some(_), Some(_)) => {
                r.error("line_end_pattern", "only one of line_start_pattern or line_end_pattern can be set");
                None
            }
            (None, None) => {
                let at = r.path().to_vec();
                r.push_error(ArgError::new(at, "one of line_start_pattern or line_end_pattern must be set"));
                None
            }
            (Some(p), None) => compile(r, "line_start_pattern", &p).map(Split::Start),
            (None, Some(p)) => compile(r, "line_end_pattern", &p).map(Split::End),
        };
        Multiline(split, omit)
    }
}

/// What a filelog receiver is configured with, decoded.
#[derive(Default)]
pub struct Args {
    pub(super) include: Vec<String>,
    pub(super) exclude: Vec<String>,
    pub(super) start_at_beginning: bool,
    pub(super) poll_interval: Duration,
    pub(super) fingerprint_size: u64,
    pub(super) max_log_size: u64,
    pub(super) charset: Charset,
    pub(super) exclude_older_than: Duration,
    pub(super) force_flush: Duration,
    pub(super) max_concurrent_files: i64,
    pub(super) max_batches: i64,
    multiline: Option<Multiline>,
    pub(super) preserve_leading: bool,
    pub(super) preserve_trailing: bool,
    pub(super) file_attributes: FileAttributes,
    pub(super) attributes: BTreeMap<String, String>,
    pub(super) resource: BTreeMap<String, String>,
    pub(super) operators: Vec<Val>,
    pub(super) storage: Option<StorageDir>,
    pub(super) delete_after_read: bool,
    pub(super) compression: Compression,
    pub(super) ordering: Ordering,
    header: Option<HeaderArgs>,
    pub(super) retry: RetryConfig,
    pub(super) output: Output,
}

/// `retry_on_failure`: upstream's consumer retry, with the backoff's fixed multiplier and
/// jitter (1.5 and 0.5, which the block does not expose).
#[derive(Default)]
struct Retry(RetryConfig);

impl Arguments for Retry {
    fn decode(r: &mut Reader<'_>) -> Self {
        Retry(RetryConfig {
            enabled: r.get("enabled"),
            initial_interval: r.get::<Dur>("initial_interval").0,
            max_interval: r.get::<Dur>("max_interval").0,
            max_elapsed_time: r.get::<Dur>("max_elapsed_time").0,
            multiplier: 1.5,
            randomization_factor: 0.5,
        })
    }
}

/// Which file attributes records get.
#[derive(Clone, Copy, Default)]
pub(super) struct FileAttributes {
    pub(super) name: bool,
    pub(super) path: bool,
    pub(super) name_resolved: bool,
    pub(super) path_resolved: bool,
    pub(super) owner: bool,
    pub(super) group: bool,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["acquire_fs_lock", "file_cache_advise", "include_file_permissions", "include_file_record_number", "debug_metrics"]);
        let start_at: String = r.get("start_at");
        let start_at_beginning = match start_at.as_str() {
            "beginning" => true,
            "end" => false,
            other => {
                r.error("start_at", format!("invalid start_at location {other:?}: expected \"beginning\" or \"end\""));
                false
            }
        };
        let encoding: String = r.get("encoding");
        let charset = match encoding.to_ascii_lowercase().as_str() {
            "nop" | "utf8-raw" => {
                r.error("encoding", format!("encoding {encoding:?} is not supported by this runtime yet"));
                Charset::Utf8
            }
            _ => Charset::by_name(&encoding).unwrap_or_else(|| {
                r.error("encoding", format!("unsupported encoding '{encoding}'"));
                Charset::Utf8
            }),
        };
        let compression_name: String = r.get("compression");
        let compression = Compression::parse(&compression_name).unwrap_or_else(|| {
            r.error("compression", format!("unsupported compression {compression_name:?}: expected \"gzip\" or \"auto\""));
            Compression::None
        });
        let operators = operator_list(r, "operators");
        Args {
            include: r.get("include"),
            exclude: r.get("exclude"),
            start_at_beginning,
            poll_interval: r.get::<Dur>("poll_interval").0,
            fingerprint_size: r.get::<Bytes>("fingerprint_size").0,
            max_log_size: r.get::<Bytes>("max_log_size").0,
            charset,
            exclude_older_than: r.get::<Dur>("exclude_older_than").0,
            force_flush: r.get::<Dur>("force_flush_period").0,
            max_concurrent_files: r.get("max_concurrent_files"),
            max_batches: r.get("max_batches"),
            multiline: r.block("multiline"),
            preserve_leading: r.get("preserve_leading_whitespaces"),
            preserve_trailing: r.get("preserve_trailing_whitespaces"),
            file_attributes: FileAttributes {
                name: r.get("include_file_name"),
                path: r.get("include_file_path"),
                name_resolved: r.get("include_file_name_resolved"),
                path_resolved: r.get("include_file_path_resolved"),
                owner: r.get("include_file_owner_name"),
                group: r.get("include_file_owner_group_name"),
            },
            attributes: r.get("attributes"),
            resource: r.get("resource"),
            operators,
            storage: r.opt("storage"),
            delete_after_read: r.get("delete_after_read"),
            compression,
            ordering: r.block_or_default("ordering_criteria"),
            header: r.block("header"),
            retry: r.block_or_default::<Retry>("retry_on_failure").0,
            output: r.block_or_default("output"),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(!self.include.is_empty(), &["include"], "include must not be empty");
        for (name, patterns) in [("include", &self.include), ("exclude", &self.exclude)] {
            for p in patterns.iter() {
                if let Err(e) = Glob::new(p, true) {
                    r.error(name, e);
                }
            }
        }
        r.check(self.fingerprint_size >= MIN_FINGERPRINT, &["fingerprint_size"], format!("fingerprint_size must be at least {MIN_FINGERPRINT} bytes"));
        r.check(self.max_log_size > 0, &["max_log_size"], "max_log_size must be positive");
        r.check(self.max_concurrent_files >= 1, &["max_concurrent_files"], "max_concurrent_files must be positive");
        r.check(self.max_batches >= 0, &["max_batches"], "max_batches must not be negative");
        r.check(!self.poll_interval.is_zero(), &["poll_interval"], "poll_interval must be greater than 0");
        r.check(
            !self.delete_after_read || self.start_at_beginning,
            &["delete_after_read", "start_at"],
            "delete_after_read cannot be used with start_at = \"end\"",
        );
        report_operators(r, &[], "operators", &self.operators);
        if let Some(h) = &self.header {
            r.check(self.start_at_beginning, &["header", "start_at"], "header cannot be used with start_at = \"end\"");
            report_operators(r, &["header"], "metadata_operators", &h.metadata_operators);
        }
    }
}

/// Every problem of an operator list, at the operator (and key) at fault inside `block.name`.
fn report_operators(r: &mut Reader<'_>, block: &[&str], name: &str, operators: &[Val]) {
    let Err(errors) = Pipeline::build(operators) else { return };
    for e in errors {
        let mut path = r.path().to_vec();
        path.extend(block.iter().chain([&name]).map(|f| PathSeg::Field((*f).into())));
        path.push(PathSeg::Index(e.index));
        path.extend(e.error.keys);
        let mut err = ArgError::new(path, e.error.message);
        if let Some(range) = e.error.within {
            err = err.within(range);
        }
        r.push_error(err);
    }
}

/// The `header` block.
#[derive(Default)]
struct HeaderArgs {
    pattern: Option<regex::Regex>,
    metadata_operators: Vec<Val>,
}

impl Arguments for HeaderArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        let text: String = r.get("pattern");
        let pattern = regex::Regex::new(&text).map_err(|e| r.error("pattern", format!("compile header pattern: {e}"))).ok();
        HeaderArgs { pattern, metadata_operators: operator_list(r, "metadata_operators") }
    }
}

/// An operator list argument as entry values.
fn operator_list(r: &mut Reader<'_>, name: &'static str) -> Vec<Val> {
    match r.get::<Value>(name) {
        Value::Array(items) => items.iter().map(from_eval).collect(),
        _ => Vec::new(),
    }
}

impl Args {
    /// The header rules, when `header` is set (the configuration was checked).
    pub(super) fn header_rules(&self) -> Result<Option<HeaderRules>, ComponentError> {
        let Some(h) = &self.header else { return Ok(None) };
        let pipeline = Pipeline::build(&h.metadata_operators).map_err(|e| ComponentError(format!("invalid header metadata_operators: {e:?}")))?;
        let pattern = h.pattern.clone().ok_or_else(|| ComponentError("invalid header pattern".into()))?;
        Ok(Some(HeaderRules { pattern, pipeline }))
    }

    pub(super) fn settings(&self) -> Settings {
        let rules = Rules {
            split: self.multiline.as_ref().and_then(|m| m.0.clone()).unwrap_or(Split::Lines),
            omit_pattern: self.multiline.as_ref().is_some_and(|m| m.1),
            preserve_leading: self.preserve_leading,
            preserve_trailing: self.preserve_trailing,
            max_bytes: self.max_log_size as usize,
        };
        // Upstream reads `max_concurrent_files / 2` files per batch, `max_batches` batches a poll.
        let per_batch = (self.max_concurrent_files / 2).max(1) as usize;
        Settings {
            include: self.include.iter().filter_map(|p| Glob::new(p, true).ok()).collect(),
            exclude: self.exclude.iter().filter_map(|p| Glob::new(p, true).ok()).collect(),
            start_at_beginning: self.start_at_beginning,
            fingerprint_size: self.fingerprint_size as usize,
            charset: self.charset,
            exclude_older_than: self.exclude_older_than,
            max_files: (self.max_batches > 0).then(|| per_batch * self.max_batches as usize),
            rules,
            force_flush: self.force_flush,
            delete_after_read: self.delete_after_read,
            owner: self.file_attributes.owner || self.file_attributes.group,
            compression: self.compression,
            ordering: self.ordering.clone(),
        }
    }
}
