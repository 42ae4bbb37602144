//! `otelcol.receiver.filelog`: every `poll_interval`, reads what was appended to the files
//! `include` matches (less `exclude`, less files older than `exclude_older_than`), turns
//! each line (or `multiline` group) into a log record — body the text, `log.file.name` /
//! `log.file.path` (and their `_resolved` forms) as the flags say, `attributes` and
//! `resource` added, observed now — runs the records through the stanza `operators`
//! ([`crate::otelcol::stanza`]) and sends them to `output.logs`.
//!
//! Files are followed by the Loki file source's tailer ([`files`]) and identified by their
//! fingerprint ([`offsets`]): read offsets are kept in memory, and in the storage directory
//! when `storage` names an `otelcol.storage.file`, so a restart reads on where it stopped.

mod files;
mod header;
mod multiline;
mod offsets;
mod ordering;
mod owner;
mod reader;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use analyzer::rules::ArgError;
use eval::{Object, PathSeg, Value};
use tokio_util::sync::CancellationToken;

use crate::component::args::decode_checked;
use crate::component::args::types::{Bytes, Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, HealthState, Reader, Registration};
use crate::delivery::retry::{with_retry, RetryConfig, SendError};
use crate::delivery::storage::StorageDir;
use crate::file_glob::glob::Glob;
use crate::loki::source::file::charset::Charset;
use crate::otelcol::consumer::{ConsumeError, Fanout, Output};
use crate::otelcol::log;
use crate::otelcol::pdata::Payload;
use crate::otelcol::receiver::otlp::Ingest;
use crate::otelcol::stanza::config::from_eval;
use crate::otelcol::stanza::entry::{Entry, Val};
use crate::otelcol::stanza::{otlp, Failure, Pipeline};
use files::{FileSet, Settings, Texts};
use header::HeaderRules;
use multiline::{Rules, Split};
use offsets::Known;
use ordering::Ordering;
use reader::Compression;

const NAME: &str = "otelcol.receiver.filelog";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

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
    include: Vec<String>,
    exclude: Vec<String>,
    start_at_beginning: bool,
    poll_interval: Duration,
    fingerprint_size: u64,
    max_log_size: u64,
    charset: Charset,
    exclude_older_than: Duration,
    force_flush: Duration,
    max_concurrent_files: i64,
    max_batches: i64,
    multiline: Option<Multiline>,
    preserve_leading: bool,
    preserve_trailing: bool,
    file_attributes: FileAttributes,
    attributes: BTreeMap<String, String>,
    resource: BTreeMap<String, String>,
    operators: Vec<Val>,
    storage: Option<StorageDir>,
    delete_after_read: bool,
    compression: Compression,
    ordering: Ordering,
    header: Option<HeaderArgs>,
    retry: RetryConfig,
    output: Output,
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
struct FileAttributes {
    name: bool,
    path: bool,
    name_resolved: bool,
    path_resolved: bool,
    owner: bool,
    group: bool,
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
    fn header_rules(&self) -> Result<Option<HeaderRules>, ComponentError> {
        let Some(h) = &self.header else { return Ok(None) };
        let pipeline = Pipeline::build(&h.metadata_operators).map_err(|e| ComponentError(format!("invalid header metadata_operators: {e:?}")))?;
        let pattern = h.pattern.clone().ok_or_else(|| ComponentError("invalid header pattern".into()))?;
        Ok(Some(HeaderRules { pattern, pipeline }))
    }

    fn settings(&self) -> Settings {
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

/// Everything a poll needs, replaced when the arguments change.
struct State {
    files: FileSet,
    pipeline: Pipeline,
    file_attributes: FileAttributes,
    attributes: BTreeMap<String, Val>,
    resource: BTreeMap<String, Val>,
    poll_interval: Duration,
    /// Where offsets persist, and whether to fsync them.
    offsets_path: Option<(PathBuf, bool)>,
    saved: Known,
    /// Entries the previous arguments' operators released at an update, sent at the next poll.
    carried: Vec<Entry>,
    retry: RetryConfig,
}

pub struct FilelogReceiver {
    ctx: Context,
    fanout: Arc<Fanout>,
    /// Delivers and counts records accepted and refused, as upstream's receivers do.
    ingest: Ingest,
    state: Mutex<State>,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(FilelogReceiver::new(ctx, &args)?)
}

fn strings(m: &BTreeMap<String, String>) -> BTreeMap<String, Val> {
    m.iter().map(|(k, v)| (k.clone(), Val::str(v))).collect()
}

fn text_of(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn base_name(p: &Path) -> String {
    p.file_name().map_or_else(|| text_of(p), |n| n.to_string_lossy().into_owned())
}

impl State {
    fn new(ctx: &Context, args: Args, known: Option<Known>) -> Result<State, ComponentError> {
        let pipeline = Pipeline::build(&args.operators).map_err(|e| ComponentError(format!("invalid operators: {e:?}")))?;
        let offsets_path = args.storage.as_ref().map(|s| (offsets::path_for(s, ctx.id()), s.fsync));
        let known = match (known, &offsets_path) {
            (Some(k), _) => k,
            (None, Some((path, _))) => offsets::load(path).map_err(ComponentError)?,
            (None, None) => Known::default(),
        };
        Ok(State {
            files: FileSet::new(args.settings(), known.clone(), args.header_rules()?),
            pipeline,
            file_attributes: args.file_attributes,
            attributes: strings(&args.attributes),
            resource: strings(&args.resource),
            poll_interval: args.poll_interval,
            offsets_path,
            saved: known,
            carried: Vec::new(),
            retry: args.retry.clone(),
        })
    }

    /// A new entry for a text read from a file.
    fn entry(&self, t: &Texts, text: String, observed: i64) -> Entry {
        let mut e = Entry::with_body(text);
        e.observed = observed;
        e.attributes = self.attributes.clone();
        e.resource = self.resource.clone();
        let a = self.file_attributes;
        // An owner or group name that cannot be found (no passwd entry) leaves its attribute out.
        let file_attributes = [
            (a.name, "log.file.name", Some(base_name(&t.path))),
            (a.path, "log.file.path", Some(text_of(&t.path))),
            (a.name_resolved, "log.file.name_resolved", Some(base_name(&t.about.resolved))),
            (a.path_resolved, "log.file.path_resolved", Some(text_of(&t.about.resolved))),
            (a.owner, "log.file.owner.name", t.about.owner.clone()),
            (a.group, "log.file.owner.group.name", t.about.group.clone()),
        ];
        for (on, key, value) in file_attributes {
            if let (true, Some(v)) = (on, value) {
                e.attributes.insert(key.to_string(), Val::Str(v));
            }
        }
        e.attributes.extend(t.about.header.clone());
        e
    }

    /// Entries for the texts, through the operators.
    fn process(&mut self, read: Vec<Texts>, out: &mut Vec<Entry>, failures: &mut Vec<Failure>) {
        let observed = loki::Entry::nanos_of(std::time::SystemTime::now());
        for t in &read {
            for text in &t.texts {
                let e = self.entry(t, text.clone(), observed);
                self.pipeline.process(e, out, failures);
            }
        }
    }

    /// Everything held for a continuation (multiline groups, recombine batches), out now.
    fn release(&mut self, now: Instant, out: &mut Vec<Entry>, failures: &mut Vec<Failure>) {
        let held = self.files.flush();
        self.process(held, out, failures);
        self.pipeline.flush(now, true, out, failures);
    }

    /// Writes the offsets when they changed since the last write.
    fn save(&mut self) -> Result<(), String> {
        let Some((path, fsync)) = &self.offsets_path else { return Ok(()) };
        if self.files.known == self.saved {
            return Ok(());
        }
        offsets::save(path, &self.files.known, *fsync).map_err(|e| format!("saving file offsets to {}: {e}", path.display()))?;
        self.saved = self.files.known.clone();
        Ok(())
    }
}

impl FilelogReceiver {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<FilelogReceiver>, ComponentError> {
        let mut args: Args = decode_checked(NAME, args)?;
        let output = std::mem::take(&mut args.output);
        let state = State::new(&ctx, args, None)?;
        ctx.set_exports(Value::object(Object::new()));
        let fanout = Arc::new(Fanout::new(output));
        // Upstream's stanza receivers report no transport.
        let ingest = Ingest::new(&ctx, fanout.clone(), "filelog", "");
        Ok(Arc::new(FilelogReceiver { ctx, fanout, ingest, state: Mutex::new(state) }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the files once (or, at shutdown, releases everything held); what to send,
    /// and whether a file has more to read now.
    fn poll(&self, last: bool) -> (Vec<Entry>, bool) {
        let mut st = self.lock();
        let now = Instant::now();
        let (read, more) = st.files.poll(now);
        for problem in std::mem::take(&mut st.files.problems) {
            log(self.ctx.id(), tracing::Level::WARN, &problem);
        }
        let (mut out, mut failures) = (std::mem::take(&mut st.carried), Vec::new());
        st.process(read, &mut out, &mut failures);
        if last {
            st.release(now, &mut out, &mut failures);
        } else {
            st.pipeline.flush(now, false, &mut out, &mut failures);
        }
        drop(st);
        self.log_failures(failures);
        (out, more)
    }

    /// Persists the offsets once what was read up to them has been handed on.
    fn checkpoint(&self) {
        if let Err(e) = self.lock().save() {
            log(self.ctx.id(), tracing::Level::WARN, &e);
        }
    }

    fn log_failures(&self, failures: Vec<Failure>) {
        for f in failures {
            let level = if f.quiet { tracing::Level::DEBUG } else { tracing::Level::ERROR };
            log(self.ctx.id(), level, &format!("operator {:?} failed: {}", f.operator, f.message));
        }
    }

    /// Sends the entries, retried as `retry_on_failure` says while the next components
    /// refuse them for now (reading waits meanwhile, as upstream's does).
    async fn send(&self, entries: Vec<Entry>, stop: &CancellationToken) {
        if entries.is_empty() {
            return;
        }
        let payload = Payload::from_logs(&otlp::to_request(&entries));
        let retry = self.lock().retry.clone();
        let attempt = || async {
            self.ingest.deliver(payload.clone()).await.map_err(|e| match e {
                ConsumeError::Permanent(m) => SendError::permanent(m),
                ConsumeError::Unavailable(m) => SendError::retryable(m),
            })
        };
        if let Err(e) = with_retry(&retry, stop, attempt).await {
            log(self.ctx.id(), tracing::Level::ERROR, &format!("failed to send {} log records: {e}", entries.len()));
        }
    }
}

impl Component for FilelogReceiver {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let mut args: Args = decode_checked(NAME, &args)?;
        self.fanout.set(std::mem::take(&mut args.output));
        let mut st = self.lock();
        // Offsets carry over; so does the storage file unless `storage` changed.
        let same_storage = st.offsets_path.as_ref().map(|(p, _)| p.clone()) == args.storage.as_ref().map(|s| offsets::path_for(s, self.ctx.id()));
        let known = same_storage.then(|| st.files.known.clone());
        let mut next = State::new(&self.ctx, args, known)?;
        // What the old operators hold goes out with the next poll rather than being lost.
        let mut failures = Vec::new();
        next.carried = std::mem::take(&mut st.carried);
        st.release(Instant::now(), &mut next.carried, &mut failures);
        *st = next;
        drop(st);
        self.log_failures(failures);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            self.ctx.set_health(HealthState::Healthy, "started");
            loop {
                let stopping = shutdown.is_cancelled();
                let (entries, more) = self.poll(stopping);
                self.send(entries, &shutdown).await;
                self.checkpoint();
                if stopping {
                    return Ok(());
                }
                if more {
                    tokio::task::yield_now().await;
                    continue;
                }
                let wait = self.lock().poll_interval;
                tokio::select! {
                    // One more read before stopping, while the components downstream still run.
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        })
    }

    fn debug_info(&self) -> Option<Value> {
        let st = self.lock();
        let files: Vec<Value> = st
            .files
            .offsets()
            .into_iter()
            .map(|(path, offset)| {
                let mut o = Object::ordered();
                o.insert("path", Value::string(text_of(&path)));
                o.insert("offset", Value::string(offset.to_string()));
                Value::object(o)
            })
            .collect();
        let mut o = Object::ordered();
        o.insert("files", Value::array(files));
        Some(Value::object(o))
    }
}
