//! `loki.source.file`: tails each target's `__path__` ([`tailer`]) and sends its lines as
//! entries labelled with the target's labels (those starting with `__` removed) and
//! `filename`, timestamped when read. Where each file was read to is kept in
//! `positions.yml` in the component's data directory ([`positions`]), saved every 10 s and at
//! shutdown, so a restart resumes without gaps or repeats. Targets are compared on every
//! update: files no longer targeted stop and their positions are forgotten (compressed files'
//! excepted, see below).
//!
//! With `file_match { enabled = true }` the component expands the targets' `__path__` globs
//! itself every `sync_period` (as `local.file_match` does). `legacy_positions_file` (promtail's
//! positions) is read once when `positions.yml` does not exist yet; its entries carry no labels,
//! and a file found there resumes from that offset whatever its target's labels.
//!
//! `encoding` names the files' character set ([`charset`]: any name upstream accepts, an unknown
//! one refused where it is written); lines are split on that set's newline and decoded to UTF-8,
//! and positions stay byte offsets in the file. A byte order mark at a file's start decides its
//! encoding whatever `encoding` says, as upstream has it.
//!
//! With `decompression { enabled = true }` every target is a compressed file ([`archive`]: `gz`,
//! `z` or `bz2`), read once from its beginning after `initial_delay` and then left alone, as
//! upstream does: its position counts decompressed bytes, so a restart sends nothing twice, and
//! it is kept when the target goes away (upstream keeps it too, so a file that comes back is not
//! read again). `tail_from_end` does not apply to compressed files (upstream does not support
//! it there). A file that is not compressed, or is corrupt, is logged with its path and counted
//! in `loki_source_file_decompression_errors_total` (this runtime's; upstream only logs), after
//! the lines decompressed before the damage went out. Changing `encoding` or `decompression`
//! restarts every file's reading at its position (upstream keeps running readers as they were).

pub(crate) mod archive;
pub(crate) mod charset;
mod charset_tables;
pub(crate) mod tailer;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use eval::{Object, Value};
use loki::push::format_labels;
use loki::Entry;
use prom::Labels;
use tokio_util::sync::CancellationToken;

use super::positions::{Key, Positions};
use archive::{Archive, Format};
use charset::Charset;
use tailer::{Polled, Tailer};

use crate::component::args::decode_checked;
use crate::component::args::types::Dur;
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::loki::receiver::{Fanout, LogsReceiver};
use crate::metrics::{Counter, Gauge};

const NAME: &str = "loki.source.file";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

const SAVE_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnPositionsError {
    #[default]
    RestartFromBeginning,
    RestartFromEnd,
    Skip,
}

#[derive(Default)]
pub struct Args {
    pub targets: Vec<BTreeMap<String, String>>,
    pub forward_to: Vec<LogsReceiver>,
    pub tail_from_end: bool,
    pub legacy_positions_file: String,
    /// `file_match` when enabled: (sync period, ignore older than).
    pub file_match: Option<(Duration, Duration)>,
    pub on_positions_error: OnPositionsError,
    pub poll: PollFrequency,
    pub reading: Reading,
}

/// `file_watch`: files are polled every `min` while they have something new; each poll that
/// finds nothing doubles the wait, up to `max` (as upstream's polling watcher backs off).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PollFrequency {
    pub min: Duration,
    pub max: Duration,
}

impl PollFrequency {
    /// The wait after a poll that waited `last`: `min` when it read something.
    fn next(&self, last: Duration, read: bool) -> Duration {
        if read {
            self.min
        } else {
            (last * 2).clamp(self.min, self.max)
        }
    }
}

/// How files are read: their character set, and (when `decompression` is enabled) their
/// compression format and `initial_delay`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reading {
    pub charset: Charset,
    pub decompression: Option<(Format, Duration)>,
}

#[derive(Default)]
struct FileWatch(PollFrequency);

impl Arguments for FileWatch {
    fn decode(r: &mut Reader<'_>) -> Self {
        let min = r.get::<Dur>("min_poll_frequency").0;
        let max = r.get::<Dur>("max_poll_frequency").0;
        if min > max {
            r.error("min_poll_frequency", "min_poll_frequency must not be above max_poll_frequency");
        }
        let min = min.max(Duration::from_millis(10));
        FileWatch(PollFrequency { min, max: max.max(min) })
    }
}

/// `decompression`: when enabled, the format and the initial delay. The format is checked
/// even when disabled, as upstream checks it.
#[derive(Default)]
struct Decompression(Option<(Format, Duration)>);

impl Arguments for Decompression {
    fn decode(r: &mut Reader<'_>) -> Self {
        let name: String = r.get("format");
        let format = Format::parse(&name);
        if format.is_none() {
            r.error("format", format!("unsupported compression format {name:?}: expected \"gz\", \"z\" or \"bz2\""));
        }
        let delay = r.get::<Dur>("initial_delay").0;
        let enabled: bool = r.get("enabled");
        Decompression(format.filter(|_| enabled).map(|f| (f, delay)))
    }
}

/// `file_match`: when enabled, the glob expansion's period and age limit.
#[derive(Default)]
struct FileMatch(Option<(Duration, Duration)>);

impl Arguments for FileMatch {
    fn decode(r: &mut Reader<'_>) -> Self {
        let sync = r.get::<Dur>("sync_period").0;
        let older = r.get::<Dur>("ignore_older_than").0;
        let enabled: bool = r.get("enabled");
        if enabled && sync.is_zero() {
            r.error("sync_period", "sync_period must be greater than 0");
        }
        FileMatch(enabled.then_some((sync.max(Duration::from_millis(10)), older)))
    }
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        let encoding: String = r.get("encoding");
        let charset = Charset::by_name(&encoding).unwrap_or_else(|| {
            r.error(
                "encoding",
                format!("unknown encoding {encoding:?}: expected an IANA character set name upstream decodes, such as \"UTF-8\", \"UTF-16LE\", \"ISO-8859-1\", \"windows-1252\" or \"Shift_JIS\""),
            );
            Charset::Utf8
        });
        let decompression = r.block::<Decompression>("decompression").and_then(|d| d.0);
        let on_error: String = r.get("on_positions_file_error");
        let on_positions_error = match on_error.as_str() {
            "restart_from_beginning" => OnPositionsError::RestartFromBeginning,
            "restart_from_end" => OnPositionsError::RestartFromEnd,
            "skip" => OnPositionsError::Skip,
            other => {
                r.error(
                    "on_positions_file_error",
                    format!("unknown on_positions_file_error {other:?}: expected \"restart_from_beginning\", \"restart_from_end\" or \"skip\""),
                );
                OnPositionsError::default()
            }
        };
        Args {
            targets: r.get("targets"),
            forward_to: r.get("forward_to"),
            tail_from_end: r.get("tail_from_end"),
            legacy_positions_file: r.get("legacy_positions_file"),
            file_match: r.block::<FileMatch>("file_match").and_then(|f| f.0),
            on_positions_error,
            poll: r.block_or_default::<FileWatch>("file_watch").0,
            reading: Reading { charset, decompression },
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(self.targets.iter().all(|t| t.get("__path__").is_some_and(|p| !p.is_empty())), &["targets"], "every target must have a __path__ label");
    }
}

/// A followed file: how it is read and the labels its entries get.
struct Followed {
    reader: FileReader,
    labels: Labels,
    metrics: PathMetrics,
}

/// Upstream's per-file series (label `path`): lines read, the read position and the file's
/// size (both gauges, as upstream's).
struct PathMetrics {
    read_lines: Counter,
    read_bytes: Gauge,
    file_bytes: Gauge,
}

impl PathMetrics {
    fn new(ctx: &Context, path: &str) -> Self {
        let labels = [("path", path)];
        PathMetrics {
            read_lines: ctx.counter("loki_source_file_read_lines_total", "Number of lines read.", &labels),
            read_bytes: ctx.gauge("loki_source_file_read_bytes_total", "Number of bytes read.", &labels),
            file_bytes: ctx.gauge("loki_source_file_file_bytes_total", "Number of bytes total.", &labels),
        }
    }
}

/// A plain file followed as it grows, or a compressed one read once.
enum FileReader {
    Tail(Tailer),
    Archive(Archive),
}

impl FileReader {
    fn poll(&mut self) -> Polled {
        match self {
            FileReader::Tail(t) => t.poll(),
            FileReader::Archive(a) => a.poll(),
        }
    }

    /// What the positions file keeps.
    fn offset(&self) -> u64 {
        match self {
            FileReader::Tail(t) => t.offset,
            FileReader::Archive(a) => a.offset,
        }
    }

    fn is_running(&self) -> bool {
        match self {
            FileReader::Tail(_) => true,
            FileReader::Archive(a) => a.is_running(),
        }
    }
}

struct State {
    /// The targets as given; with `file_match`, their globs are expanded on every sync.
    targets: Vec<BTreeMap<String, String>>,
    file_match: Option<(Duration, Duration)>,
    tail_from_end: bool,
    poll: PollFrequency,
    reading: Reading,
    files: BTreeMap<Key, Followed>,
    positions: Positions,
}

pub struct FileSource {
    ctx: Context,
    fanout: Fanout,
    state: Mutex<State>,
    positions_path: PathBuf,
    files_active: Gauge,
    decompression_errors: Counter,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(FileSource::new(ctx, &args)?)
}

/// The labels of a target's entries and its key.
fn target(t: &BTreeMap<String, String>) -> (Key, Labels) {
    let path = t.get("__path__").cloned().unwrap_or_default();
    let public: Vec<(&str, &str)> = t.iter().filter(|(k, _)| !k.starts_with("__")).map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let key = (path.clone(), format_labels(public.iter().copied()));
    let mut labels = public;
    labels.push(("filename", path.as_str()));
    (key, Labels::new(labels))
}

/// `positions.yml`, or, while it does not exist, the legacy (promtail) positions file.
fn load_positions(path: &std::path::Path, legacy: &str) -> Result<Positions, String> {
    if legacy.is_empty() || path.exists() {
        return Positions::load(path);
    }
    Positions::load(std::path::Path::new(legacy))
}

impl FileSource {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<FileSource>, ComponentError> {
        let args: Args = decode_checked(NAME, args)?;
        let positions_path = ctx.data_path().join("positions.yml");
        let positions = match load_positions(&positions_path, &args.legacy_positions_file) {
            Ok(p) => p,
            Err(e) => match args.on_positions_error {
                OnPositionsError::Skip => return Err(ComponentError(format!("reading the positions file: {e}"))),
                OnPositionsError::RestartFromBeginning | OnPositionsError::RestartFromEnd => {
                    crate::component::log(ctx.id(), tracing::Level::WARN, &format!("unreadable positions file, starting afresh: {e}"));
                    Positions::default()
                }
            },
        };
        let tail_from_end = args.tail_from_end || (args.on_positions_error == OnPositionsError::RestartFromEnd && positions.offsets.is_empty());
        let c = Arc::new(FileSource {
            files_active: ctx.gauge("loki_source_file_files_active_total", "Number of active files.", &[]),
            decompression_errors: ctx.counter(
                "loki_source_file_decompression_errors_total",
                "Number of compressed files that could not be read to their end (not compressed, corrupt or truncated).",
                &[],
            ),
            fanout: Fanout::new(args.forward_to.clone()).tapped(&ctx),
            state: Mutex::new(State {
                targets: Vec::new(),
                file_match: None,
                tail_from_end,
                poll: args.poll,
                reading: args.reading,
                files: BTreeMap::new(),
                positions,
            }),
            positions_path,
            ctx,
        });
        c.retarget(args);
        c.ctx.set_exports(Value::object(Object::new()));
        Ok(c)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// New arguments: receivers, settings and targets.
    fn retarget(&self, args: Args) {
        self.fanout.set(args.forward_to);
        let mut st = self.lock();
        st.poll = args.poll;
        st.file_match = args.file_match;
        if st.reading != args.reading {
            // Every file is read anew the new way, from where it was.
            st.reading = args.reading;
            st.files.clear();
        }
        st.targets = args.targets;
        self.sync(&mut st);
    }

    /// Starts following new files, stops following gone ones (forgetting their positions).
    fn sync(&self, st: &mut State) {
        let files = match st.file_match {
            Some((_, older)) => crate::file_glob::matching_files(&st.targets, older),
            None => st.targets.clone(),
        };
        let wanted: BTreeMap<Key, Labels> = files.iter().map(target).collect();
        let gone: Vec<Key> = st.files.keys().filter(|k| !wanted.contains_key(*k)).cloned().collect();
        for k in gone {
            st.files.remove(&k);
            // Upstream keeps a compressed file's position: it is not read again if it comes back.
            if st.reading.decompression.is_none() {
                st.positions.offsets.remove(&k);
            }
        }
        for (key, labels) in wanted {
            if st.files.contains_key(&key) {
                continue;
            }
            let path = PathBuf::from(&key.0);
            // A legacy (promtail) position has no labels: it serves whatever target the file has.
            let legacy = (key.0.clone(), "{}".to_string());
            let known = st.positions.offsets.get(&key).copied().or_else(|| st.positions.offsets.remove(&legacy));
            let charset = st.reading.charset;
            let reader = match st.reading.decompression {
                Some((format, delay)) => FileReader::Archive(Archive::new(path, known.unwrap_or(0), charset, format, delay)),
                None => {
                    let offset = match known {
                        Some(o) => o,
                        None if st.tail_from_end => std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
                        None => 0,
                    };
                    FileReader::Tail(Tailer::new(path, offset, charset))
                }
            };
            let metrics = PathMetrics::new(&self.ctx, &key.0);
            st.files.insert(key, Followed { reader, labels, metrics });
        }
        self.files_active.set(st.files.len() as f64);
    }

    /// Reads every file once; the entries read, and whether a file has more to read now.
    fn poll(&self) -> (Vec<Entry>, bool) {
        let mut st = self.lock();
        let now = Entry::nanos_of(SystemTime::now());
        let mut out = Vec::new();
        let mut offsets = Vec::new();
        let mut errors = Vec::new();
        let mut more = false;
        for (key, f) in st.files.iter_mut() {
            let read = f.reader.poll();
            more |= read.more;
            f.metrics.read_lines.add(read.lines.len() as u64);
            f.metrics.read_bytes.set(f.reader.offset() as f64);
            if let Some(size) = read.size {
                f.metrics.file_bytes.set(size as f64);
            }
            out.extend(read.lines.into_iter().map(|l| Entry::new(f.labels.clone(), now, l)));
            offsets.push((key.clone(), f.reader.offset()));
            errors.extend(read.error);
        }
        for (k, o) in offsets {
            st.positions.offsets.insert(k, o);
        }
        drop(st);
        for e in errors {
            self.decompression_errors.inc();
            crate::component::log(self.ctx.id(), tracing::Level::ERROR, &format!("failed to read a compressed file: {e}"));
        }
        (out, more)
    }

    fn save(&self) {
        let positions = self.lock().positions.clone();
        if let Err(e) = positions.save(&self.positions_path) {
            crate::component::log(self.ctx.id(), tracing::Level::WARN, &format!("saving the positions file: {e}"));
        }
    }
}

impl Component for FileSource {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.retarget(args);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let mut last_save = tokio::time::Instant::now();
            let mut last_sync = tokio::time::Instant::now();
            let mut last_round = false;
            let mut wait = Duration::ZERO;
            loop {
                let frequency = {
                    let mut st = self.lock();
                    if st.file_match.is_some_and(|(every, _)| last_sync.elapsed() >= every) {
                        self.sync(&mut st);
                        last_sync = tokio::time::Instant::now();
                    }
                    st.poll
                };
                let (entries, more) = self.poll();
                wait = frequency.next(wait, !entries.is_empty());
                if !entries.is_empty() {
                    // Waits while the receivers are full: the files keep the rest.
                    if let Err(e) = self.fanout.send(entries).await {
                        crate::component::log(self.ctx.id(), tracing::Level::WARN, &e.to_string());
                    }
                }
                if last_save.elapsed() >= SAVE_EVERY {
                    self.save();
                    last_save = tokio::time::Instant::now();
                }
                if last_round {
                    break;
                }
                if shutdown.is_cancelled() {
                    last_round = true;
                    continue;
                }
                if more {
                    tokio::task::yield_now().await;
                    continue;
                }
                tokio::select! {
                    // One more read before stopping: what was written up to now (and a
                    // truncation since the last poll, which a saved offset cannot show) goes
                    // out while the components downstream still run (they stop after this one).
                    _ = shutdown.cancelled() => last_round = true,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            self.save();
            Ok(())
        })
    }

    fn debug_info(&self) -> Option<Value> {
        let st = self.lock();
        let items: Vec<Value> = st
            .files
            .iter()
            .map(|((path, labels), f)| {
                let mut o = Object::ordered();
                o.insert("path", Value::string(path.clone()));
                o.insert("labels", Value::string(labels.clone()));
                o.insert("is_running", Value::Bool(f.reader.is_running()));
                o.insert("read_offset", Value::string(f.reader.offset().to_string()));
                Value::object(o)
            })
            .collect();
        let mut o = Object::ordered();
        o.insert("targets_info", Value::array(items));
        Some(Value::object(o))
    }
}

#[cfg(test)]
mod bad_input_tests;

#[cfg(test)]
mod poll_tests {
    use super::*;

    #[test]
    fn polls_back_off_from_min_to_max_while_nothing_is_read() {
        let f = PollFrequency { min: Duration::from_millis(250), max: Duration::from_secs(1) };
        let mut wait = Duration::ZERO;
        let mut seen = Vec::new();
        for read in [false, false, false, false, true, false] {
            wait = f.next(wait, read);
            seen.push(wait.as_millis());
        }
        assert_eq!(seen, [250, 500, 1000, 1000, 250, 500]);
    }
}
#[cfg(test)]
mod tests;
