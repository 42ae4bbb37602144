//! `loki.source.docker`: follows the logs of the containers its `targets` name (by
//! `__meta_docker_container_id`, as `discovery.docker` exports them) through a Docker daemon's
//! Engine API, one follower a container ([`tailer`]), and sends each line as an entry
//! timestamped by the daemon ([`stream`] demultiplexes and splits the stream).
//!
//! An entry's labels are its target's labels with `labels` over them and
//! `__meta_docker_container_log_stream` (`stdout` or `stderr`), through `relabel_rules`, with
//! every label starting with `__` then removed, as upstream does. A stream whose labels the
//! rules drop, or that is left with no label, is not sent (upstream would send entries without
//! labels, which Loki refuses); a warning says so once per follower.
//!
//! Targets naming the same container are followed once: the first after sorting them by their
//! labels' Prometheus fingerprint, as upstream picks. Each container's position (the timestamp
//! of the last line read) is kept in `positions.yml` in the component's data directory under
//! upstream's key (`cursor-<id>` and the target's label text), saved every 10 s and at
//! shutdown; a restart resumes after the last line read. A position is written as
//! `seconds.nanoseconds` (upstream writes whole seconds and reads only those); upstream's whole
//! seconds are read. A container whose target goes away stops being followed and its position
//! is forgotten; one whose labels change keeps its position. New host, HTTP client settings,
//! `refresh_interval` or rules restart every follower (from its position). A positions file
//! that cannot be read fails the build, as upstream's does for invalid YAML. Targets without
//! `__meta_docker_container_id` are skipped.
//!
//! The component is unhealthy while a follower cannot reach the daemon or read a stream; the
//! HTTP client settings apply to every host scheme (TLS to `https://` only). Requests other
//! than the log streams themselves time out after `refresh_interval`.

mod stream;
mod tailer;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eval::{Object, Value};
use loki::push::format_labels;
use prom::relabel::{process_labels, NameValidation, Rule};
use prom::Labels;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::positions::{Key, Position, Positions};
use crate::component::args::decode_checked;
use crate::component::args::types::Dur;
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, HealthState, Reader, Registration};
use crate::docker_engine::{parse_host, Engine};
use crate::http_client::HttpClientConfig;
use crate::loki::receiver::{Fanout, LogsReceiver};
use crate::metrics::Counter;
use crate::relabel_rules::RulesHandle;
use tailer::{Shared, Tailer};

const NAME: &str = "loki.source.docker";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

const CONTAINER_ID: &str = "__meta_docker_container_id";
const LOG_STREAM: &str = "__meta_docker_container_log_stream";
/// How often a follower whose stream ended looks at its container again (upstream's).
const RESTART_EVERY: Duration = Duration::from_secs(5);
const SAVE_EVERY: Duration = Duration::from_secs(10);

/// A position: the daemon's timestamp of the last line read, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Position for Cursor {
    const WHAT: &'static str = "a Unix timestamp";

    /// `seconds` (upstream's) or `seconds.fraction`.
    fn parse(text: &str) -> Option<Self> {
        let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
        let secs: i64 = secs.parse().ok()?;
        if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let nanos: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<9}").parse().ok()? };
        secs.checked_mul(1_000_000_000)?.checked_add(nanos).map(Cursor)
    }

    fn render(&self) -> String {
        crate::docker_engine::since_param(self.0)
    }
}

#[derive(Default)]
pub struct Args {
    pub host: String,
    pub targets: Vec<BTreeMap<String, String>>,
    pub forward_to: Vec<LogsReceiver>,
    pub labels: BTreeMap<String, String>,
    pub relabel_rules: Vec<Rule>,
    pub refresh_interval: Duration,
    pub client: HttpClientConfig,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args {
            host: r.get("host"),
            targets: r.get("targets"),
            forward_to: r.get("forward_to"),
            labels: r.get("labels"),
            relabel_rules: r.computed::<RulesHandle>("relabel_rules").map(|h| h.0.to_vec()).unwrap_or_default(),
            refresh_interval: r.get::<Dur>("refresh_interval").0,
            client: r.block_or_default("http_client_config"),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        if r.known("host") {
            if let Err(e) = parse_host(&self.host) {
                r.error("host", e);
            }
        }
        r.check(!self.refresh_interval.is_zero(), &["refresh_interval"], "refresh_interval must be positive, got \"0s\"");
    }
}

/// Prometheus' label set fingerprint (FNV-1a over sorted names and values, each followed by
/// 0xff): the order upstream picks among targets of the same container by.
fn fingerprint(labels: &BTreeMap<String, String>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut add = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for (k, v) in labels {
        add(k.as_bytes());
        add(&[0xff]);
        add(v.as_bytes());
        add(&[0xff]);
    }
    h
}

/// A container to follow: its ID, its key, its merged labels.
#[derive(Clone, Debug, PartialEq)]
struct Wanted {
    id: String,
    labels: BTreeMap<String, String>,
}

/// The containers the targets name, one target each, by positions key.
fn wanted(targets: &[BTreeMap<String, String>], extra: &BTreeMap<String, String>) -> BTreeMap<Key, Wanted> {
    let mut merged: Vec<BTreeMap<String, String>> = targets
        .iter()
        .map(|t| {
            let mut l = t.clone();
            l.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
            l
        })
        .collect();
    merged.sort_by_cached_key(fingerprint);
    let mut seen = std::collections::BTreeSet::new();
    let mut out = BTreeMap::new();
    for labels in merged {
        let id = labels.get(CONTAINER_ID).cloned().unwrap_or_default();
        if !seen.insert(id.clone()) || id.is_empty() {
            continue;
        }
        let key = (format!("cursor-{id}"), format_labels(labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        out.insert(key, Wanted { id, labels });
    }
    out
}

/// The labels of one stream's entries: `None` when nothing is left of them.
fn stream_labels(labels: &BTreeMap<String, String>, kind: stream::Kind, rules: &[Rule]) -> Option<Labels> {
    let mut pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).filter(|(k, _)| *k != LOG_STREAM).collect();
    pairs.push((LOG_STREAM, kind.as_str()));
    let relabelled = process_labels(rules, &Labels::new(pairs), NameValidation::Legacy)?;
    let mut b = relabelled.builder();
    b.retain(|n| !n.starts_with("__"));
    Some(b.labels()).filter(|l| !l.is_empty())
}

/// What the followers are started with; a change restarts them all.
struct Settings {
    host: String,
    client: HttpClientConfig,
    refresh_interval: Duration,
    rules: Vec<Rule>,
    engine: Arc<Engine>,
}

impl Settings {
    fn same(&self, args: &Args) -> bool {
        self.host == args.host && self.client == args.client && self.refresh_interval == args.refresh_interval && self.rules == args.relabel_rules
    }
}

fn settings(args: &Args) -> Result<Arc<Settings>, String> {
    let engine = Engine::new(&args.host, &args.client, args.refresh_interval, &crate::http_client::user_agent())?;
    Ok(Arc::new(Settings {
        host: args.host.clone(),
        client: args.client.clone(),
        refresh_interval: args.refresh_interval,
        rules: args.relabel_rules.clone(),
        engine: Arc::new(engine),
    }))
}

struct Desired {
    settings: Arc<Settings>,
    containers: BTreeMap<Key, Wanted>,
}

/// A running follower.
struct Running {
    tailer: Arc<Tailer>,
    settings: Arc<Settings>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

pub struct DockerSource {
    ctx: Context,
    fanout: Arc<Fanout>,
    desired: Mutex<Desired>,
    changed: Notify,
    /// The followers now, for debug info and health.
    tailers: Arc<Mutex<BTreeMap<Key, Arc<Tailer>>>>,
    positions: Arc<Mutex<Positions<Cursor>>>,
    positions_path: PathBuf,
    entries: Counter,
    errors: Counter,
    restart_every: Duration,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    Ok(DockerSource::new(ctx, &args, RESTART_EVERY)?)
}

/// Health from the followers: unhealthy while one cannot reach the daemon or its stream.
fn report_health(ctx: &Context, tailers: &Mutex<BTreeMap<Key, Arc<Tailer>>>) {
    let tailers = tailers.lock().unwrap_or_else(|e| e.into_inner());
    let failing: Vec<(String, String)> =
        tailers.values().map(|t| (t.id.clone(), t.status())).filter(|(_, s)| s.failing).map(|(id, s)| (id, s.last_error)).collect();
    match failing.first() {
        None => ctx.set_health(HealthState::Healthy, "following container logs"),
        Some((id, e)) => ctx.set_health(HealthState::Unhealthy, format!("{} of {} containers failing; container {id}: {e}", failing.len(), tailers.len())),
    }
}

impl DockerSource {
    pub fn new(ctx: Context, args: &Value, restart_every: Duration) -> Result<Arc<DockerSource>, ComponentError> {
        let args: Args = decode_checked(NAME, args)?;
        let positions_path = ctx.data_path().join("positions.yml");
        let positions = Positions::load(&positions_path).map_err(|e| ComponentError(format!("reading the positions file: {e}")))?;
        let desired = Desired { settings: settings(&args)?, containers: wanted(&args.targets, &args.labels) };
        let c = Arc::new(DockerSource {
            entries: ctx.counter("loki_source_docker_target_entries_total", "Total number of successful entries sent to the Docker target", &[]),
            errors: ctx.counter("loki_source_docker_target_parsing_errors_total", "Total number of parsing errors while receiving Docker messages", &[]),
            fanout: Arc::new(Fanout::new(args.forward_to).tapped(&ctx)),
            desired: Mutex::new(desired),
            changed: Notify::new(),
            tailers: Arc::new(Mutex::new(BTreeMap::new())),
            positions: Arc::new(Mutex::new(positions)),
            positions_path,
            restart_every,
            ctx,
        });
        c.ctx.set_exports(Value::object(Object::new()));
        Ok(c)
    }

    fn shared(&self, settings: &Arc<Settings>) -> Arc<Shared> {
        let (ctx, tailers) = (self.ctx.clone(), self.tailers.clone());
        Arc::new(Shared {
            component_id: self.ctx.id().to_string(),
            engine: settings.engine.clone(),
            fanout: self.fanout.clone(),
            positions: self.positions.clone(),
            entries: self.entries.clone(),
            errors: self.errors.clone(),
            restart_every: self.restart_every,
            on_status: Arc::new(move || report_health(&ctx, &tailers)),
        })
    }

    /// Stops the followers no longer wanted (or started with old settings), then starts the
    /// missing ones; the positions of containers no longer wanted are forgotten.
    async fn reconcile(&self, running: &mut BTreeMap<Key, Running>) {
        let (settings, containers) = {
            let d = self.desired.lock().unwrap_or_else(|e| e.into_inner());
            (d.settings.clone(), d.containers.clone())
        };
        let stale: Vec<Key> =
            running.iter().filter(|(k, r)| !containers.contains_key(*k) || !Arc::ptr_eq(&r.settings, &settings)).map(|(k, _)| k.clone()).collect();
        for key in &stale {
            if let Some(r) = running.remove(key) {
                r.stop.cancel();
                let _ = r.task.await;
            }
        }
        let shared = self.shared(&settings);
        for (key, w) in &containers {
            if running.contains_key(key) {
                continue;
            }
            self.carry_position(key);
            let labels = [stream_labels(&w.labels, stream::Kind::Stdout, &settings.rules), stream_labels(&w.labels, stream::Kind::Stderr, &settings.rules)];
            if labels.iter().any(Option::is_none) {
                crate::component::log(
                    self.ctx.id(),
                    tracing::Level::WARN,
                    &format!("container {}: relabeling leaves some of its streams without labels; their entries are dropped", w.id),
                );
            }
            let tailer =
                Arc::new(Tailer { id: w.id.clone(), key: key.clone(), labels, status: Mutex::new(Default::default()), warned_utf8: Default::default() });
            let stop = CancellationToken::new();
            let task = tokio::spawn(tailer::run(tailer.clone(), shared.clone(), stop.clone()));
            running.insert(key.clone(), Running { tailer, settings: settings.clone(), stop, task });
        }
        // Only positions of followers stopped here: the file's others wait for their targets.
        let gone: Vec<&Key> = stale.iter().filter(|k| !containers.contains_key(*k)).collect();
        if !gone.is_empty() {
            let mut p = self.positions.lock().unwrap_or_else(|e| e.into_inner());
            for k in gone {
                p.offsets.remove(k);
            }
        }
        *self.tailers.lock().unwrap_or_else(|e| e.into_inner()) = running.iter().map(|(k, r)| (k.clone(), r.tailer.clone())).collect();
        report_health(&self.ctx, &self.tailers);
    }

    /// A container whose labels changed resumes from the position kept under its old labels.
    fn carry_position(&self, key: &Key) {
        let mut p = self.positions.lock().unwrap_or_else(|e| e.into_inner());
        if p.offsets.contains_key(key) {
            return;
        }
        let old = p.offsets.iter().filter(|(k, _)| k.0 == key.0).map(|(_, c)| *c).max_by_key(|c| c.0);
        if let Some(c) = old {
            p.offsets.insert(key.clone(), c);
        }
    }

    fn save(&self) {
        let positions = self.positions.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Err(e) = positions.save(&self.positions_path) {
            crate::component::log(self.ctx.id(), tracing::Level::WARN, &format!("saving the positions file: {e}"));
        }
    }
}

impl Component for DockerSource {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.fanout.set(args.forward_to.clone());
        let mut d = self.desired.lock().unwrap_or_else(|e| e.into_inner());
        if !d.settings.same(&args) {
            d.settings = settings(&args)?;
        }
        d.containers = wanted(&args.targets, &args.labels);
        drop(d);
        self.changed.notify_one();
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let mut running = BTreeMap::new();
            let mut saved = tokio::time::Instant::now();
            loop {
                self.reconcile(&mut running).await;
                loop {
                    let wait = SAVE_EVERY.saturating_sub(saved.elapsed());
                    tokio::select! {
                        _ = shutdown.cancelled() => {
                            for r in running.values() {
                                r.stop.cancel();
                            }
                            for (_, r) in std::mem::take(&mut running) {
                                let _ = r.task.await;
                            }
                            self.save();
                            return Ok(());
                        }
                        _ = self.changed.notified() => break,
                        _ = tokio::time::sleep(wait) => {
                            self.save();
                            saved = tokio::time::Instant::now();
                        }
                    }
                }
            }
        })
    }

    fn debug_info(&self) -> Option<Value> {
        let tailers = self.tailers.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let positions = self.positions.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let items: Vec<Value> = tailers
            .iter()
            .map(|(key, t)| {
                let status = t.status();
                let mut o = Object::ordered();
                o.insert("id", Value::string(t.id.clone()));
                o.insert("last_error", Value::string(status.last_error));
                o.insert("labels", Value::string(key.1.clone()));
                o.insert("is_running", Value::Bool(status.running));
                o.insert("read_offset", Value::string(positions.offsets.get(key).map(|c| c.render()).unwrap_or_default()));
                Value::object(o)
            })
            .collect();
        let mut o = Object::ordered();
        o.insert("targets_info", Value::array(items));
        Some(Value::object(o))
    }
}

#[cfg(test)]
mod tests;
