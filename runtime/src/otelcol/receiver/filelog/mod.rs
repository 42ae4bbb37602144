//! `otelcol.receiver.filelog`: every `poll_interval`, reads what was appended to the files
//! `include` matches (less `exclude`, files older than `exclude_older_than`, and what
//! `ordering_criteria` leaves out), turns each line (or `multiline` group) into a log record —
//! body the text, the file attributes the flags ask for, what the file's `header` said,
//! `attributes` and `resource` added, observed now — runs the records through the stanza
//! `operators` ([`crate::otelcol::stanza`]) and sends them to `output.logs` (retried as
//! `retry_on_failure` says).
//!
//! Files are read by the Loki file source's tailer or gzip reader ([`files`], [`reader`]) and
//! identified by their fingerprint ([`offsets`]): read offsets are kept in memory, and in the
//! storage directory when `storage` names an `otelcol.storage.file`, so a restart reads on
//! where it stopped. Arguments and their rules are in [`args`].

mod args;
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

use eval::{Object, Value};
use tokio_util::sync::CancellationToken;

use crate::component::args::decode_checked;
use crate::component::{BoxFuture, Component, ComponentError, Context, HealthState, Registration};
use crate::delivery::retry::{with_retry, RetryConfig, SendError};
use crate::otelcol::consumer::{ConsumeError, Fanout};
use crate::otelcol::log;
use crate::otelcol::pdata::Payload;
use crate::otelcol::receiver::otlp::Ingest;
use crate::otelcol::stanza::entry::{Entry, Val};
use crate::otelcol::stanza::{otlp, Failure, Pipeline};
use args::{Args, FileAttributes};
use files::{FileSet, Texts};
use offsets::Known;

const NAME: &str = "otelcol.receiver.filelog";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

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
        let fanout = Arc::new(Fanout::new(output).tapped(&ctx));
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
