//! The scrape loop of one target: waits for the target's phase in the interval, scrapes on
//! every tick, turns the exposition into a batch (through the series cache), adds the report
//! series and stale markers, and appends to `forward_to`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prom::exposition::{select_format, Entry, Parser};
use prom::labels::{Labels, LabelsBuilder, METRIC_NAME};
use prom::sample::{Batch, ExemplarSample, HistogramSample, Metadata, MetadataUpdate, MetricType, Sample, SeriesRef, STALE_NAN};

use super::cache::{Entry as CacheEntry, FxMap, Gone, SeriesCache};
use super::fetch::{self, FetchError, Request, Response, IN_MEMORY_ADDRESS};
use super::target::Target;
use super::Settings;
use crate::prometheus::receiver::Fanout;
use crate::prometheus::{exporter, series_store};

/// What the component's debug info shows of a target.
#[derive(Clone, Debug, Default)]
pub struct Status {
    pub health: &'static str,
    pub last_error: String,
    pub last_scrape: Option<SystemTime>,
    pub last_duration: Duration,
}

/// Counters every loop of a component shares (upstream's scrape-manager metrics).
#[derive(Clone, Default)]
pub struct LoopMetrics {
    pub exceeded_sample_limit: crate::metrics::Counter,
    pub duplicate_timestamp: crate::metrics::Counter,
    pub out_of_bounds: crate::metrics::Counter,
}

/// Why a loop ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The target went away: its series get stale markers unless it comes back.
    Removed,
    /// The component stops or reloads: nothing is marked.
    Shutdown,
    /// A removed target came back before its series were marked stale.
    Returned,
}

pub struct Loop {
    pub target: Target,
    pub settings: Arc<Settings>,
    pub fanout: Arc<Fanout>,
    pub status: Arc<Mutex<Status>>,
    pub metrics: LoopMetrics,
    cache: SeriesCache,
    report: FxMap<&'static str, (SeriesRef, Labels)>,
    metadata_sent: FxMap<String, Arc<Metadata>>,
    builder: LabelsBuilder,
}

fn now_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The delay before the first scrape: a stable phase per target and host within the
/// interval, so targets spread out and keep their slot across restarts.
pub fn offset(target: &Target, interval: Duration, now: SystemTime) -> Duration {
    let interval_ns = interval.as_nanos().max(1) as u64;
    let now_ns = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let base = interval_ns - now_ns % interval_ns;
    let mut h = prom::labels::Fnv64::default();
    h.write(format!("{:016}", target.labels.stable_hash()).as_bytes());
    h.write(target.url.as_bytes());
    let host = hostname();
    let mut seed = prom::labels::Fnv64::default();
    seed.write(host.as_bytes());
    seed.write(b"{}");
    let phase = (h.finish() ^ seed.finish()) % interval_ns;
    Duration::from_nanos((base + phase) % interval_ns)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// What one scrape produced before the report series.
struct Outcome {
    batch: Batch,
    scraped: usize,
    post_relabel: usize,
    added: usize,
    body_size: i64,
    error: Option<String>,
}

/// What the series cache knew of a scraped series.
enum Touch {
    /// Not in the cache: its labels are to be built.
    New,
    /// Already seen in this scrape without a timestamp of its own.
    Duplicate,
    /// Dropped by the limits or relabelling when first seen.
    Dropped,
    Known(SeriesRef, Labels),
}

impl Loop {
    pub fn new(target: Target, settings: Arc<Settings>, fanout: Arc<Fanout>) -> Self {
        Loop {
            target,
            settings,
            fanout,
            status: Arc::new(Mutex::new(Status { health: "unknown", ..Status::default() })),
            metrics: LoopMetrics::default(),
            cache: SeriesCache::default(),
            report: FxMap::default(),
            metadata_sent: FxMap::default(),
            builder: LabelsBuilder::default(),
        }
    }

    /// Runs until `stop` says why to end. `client` is shared by the component's loops.
    pub async fn run(mut self, client: reqwest::Client, stop: tokio::sync::watch::Receiver<Option<Stop>>) -> Self {
        let mut stop = stop;
        let interval = self.target.interval;
        let first = offset(&self.target, interval, SystemTime::now());
        let start = tokio::time::Instant::now() + first;
        let mut ticker = tokio::time::interval_at(start, interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let ideal_start = SystemTime::now() + first;
        let mut ideal = ideal_start;
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = ticker.tick() => {}
            }
            if stop.borrow().is_some() {
                break;
            }
            let began = SystemTime::now();
            // Snap to the ideal tick when close: equal spacing compresses better downstream.
            let tolerance = (interval / 100).min(Duration::from_millis(2));
            let ts = match began.duration_since(ideal) {
                Ok(d) if d <= tolerance => ideal,
                Err(e) if e.duration() <= tolerance => ideal,
                _ => began,
            };
            while ideal <= began {
                ideal += interval;
            }
            self.scrape_once(&client, ts).await;
        }
        if *stop.borrow() == Some(Stop::Removed) {
            // A target that flaps back within two intervals keeps its series (upstream waits
            // the same before marking them stale).
            let wait = interval * 2 + interval / 10;
            let back = tokio::time::timeout(wait, async {
                loop {
                    if stop.changed().await.is_err() {
                        return false;
                    }
                    if *stop.borrow() == Some(Stop::Returned) {
                        return true;
                    }
                }
            })
            .await
            .unwrap_or(false);
            if !back {
                self.mark_all_stale();
            }
        }
        self
    }

    /// One scrape at timestamp `ts`.
    pub async fn scrape_once(&mut self, client: &reqwest::Client, ts: SystemTime) {
        let started = Instant::now();
        let response = self.fetch(client).await;
        let t = now_ms(ts);
        let outcome = match response {
            Ok(resp) => {
                let size = resp.body.len() as i64;
                let mut o = self.build(&resp, t);
                o.body_size = if o.error.is_some() { 0 } else { size };
                o
            }
            Err(e) => {
                let body_size = if matches!(e, FetchError::BodySizeLimit) { -1 } else { 0 };
                Outcome { batch: Batch::default(), scraped: 0, post_relabel: 0, added: 0, body_size, error: Some(e.to_string()) }
            }
        };
        let Outcome { mut batch, scraped, post_relabel, added, body_size, error } = outcome;
        if error.is_some() {
            // Nothing of a failed scrape is kept; the previous scrape's series go stale.
            batch = Batch::default();
            let gone = self.cache.fail();
            self.stale(&mut batch, gone, t, true);
        }
        let duration = started.elapsed();
        self.report_series(&mut batch, t, error.is_none(), duration, scraped, post_relabel, added, body_size);
        let append_error = self.fanout.append(&batch).err().map(|e| e.to_string());
        let mut st = self.status.lock().unwrap_or_else(|e| e.into_inner());
        st.last_scrape = Some(ts);
        st.last_duration = duration;
        match error.or(append_error) {
            None => {
                st.health = "up";
                st.last_error.clear();
            }
            Some(e) => {
                st.health = "down";
                st.last_error = e;
            }
        }
    }

    async fn fetch(&self, client: &reqwest::Client) -> Result<Response, FetchError> {
        let s = &self.settings;
        if self.target.labels.get("__address__") == Some(IN_MEMORY_ADDRESS) {
            let path = self.target.labels.get("__metrics_path__").unwrap_or_default();
            return match exporter::lookup(path) {
                Some(handler) => {
                    let (content_type, body) = handler(&query_of(&self.target.url));
                    if s.body_size_limit > 0 && body.len() as u64 > s.body_size_limit {
                        return Err(FetchError::BodySizeLimit);
                    }
                    Ok(Response { body, content_type })
                }
                None => Err(FetchError::Other("server returned HTTP status 404 Not Found".into())),
            };
        }
        let req =
            Request { url: &self.target.url, accept: &s.accept, gzip: s.enable_compression, timeout: self.target.timeout, body_size_limit: s.body_size_limit };
        fetch::fetch(client, &s.client, &req).await
    }

    /// Parses the body into a batch; on error the batch is to be dropped.
    fn build(&mut self, resp: &Response, t: i64) -> Outcome {
        let s = self.settings.clone();
        let batch = Batch { samples: Vec::with_capacity(self.cache.len() + 8), ..Batch::default() };
        let mut out = Outcome { batch, scraped: 0, post_relabel: 0, added: 0, body_size: 0, error: None };
        let format = match select_format(&resp.content_type, s.fallback) {
            Ok(f) => f,
            Err(e) => {
                out.error = Some(e);
                return out;
            }
        };
        let iteration = self.cache.begin();
        self.cache.warm();
        let now = now_ms(SystemTime::now());
        let mut family: Option<(String, MetricType, String, String)> = None;
        // Set when the family's metadata changed: its next sample compares it with what was sent.
        let mut family_fresh = false;
        let mut parser = Parser::new(format, &resp.body);
        while let Some(entry) = parser.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    out.error = Some(e.to_string());
                    return out;
                }
            };
            let (key, seen, value, explicit_t, histogram, exemplar) = match entry {
                Entry::Type { metric, metric_type } => {
                    family = Some((metric.to_string(), metric_type, String::new(), String::new()));
                    family_fresh = true;
                    continue;
                }
                Entry::Help { metric, text } => {
                    match &mut family {
                        Some(f) if f.0 == metric.as_ref() => f.2 = text.to_string(),
                        _ => family = Some((metric.to_string(), MetricType::Unknown, text.to_string(), String::new())),
                    }
                    family_fresh = true;
                    continue;
                }
                Entry::Unit { metric, unit } => {
                    match &mut family {
                        Some(f) if f.0 == metric.as_ref() => f.3 = unit.to_string(),
                        _ => family = Some((metric.to_string(), MetricType::Unknown, String::new(), unit.to_string())),
                    }
                    family_fresh = true;
                    continue;
                }
                Entry::Comment(_) => continue,
                Entry::Series(series) => {
                    let explicit = series.timestamp_ms();
                    let ex = series.exemplar().map(|e| e.to_exemplar(explicit.filter(|_| s.honor_timestamps).unwrap_or(t)));
                    let key = series.series();
                    let seen = self.touch(key, iteration, explicit, s.honor_timestamps);
                    if matches!(seen, Touch::New) {
                        self.builder.clear();
                        series.labels(&mut self.builder);
                    }
                    (key, seen, series.value(), explicit, None, ex)
                }
                Entry::Histogram(h) => {
                    if !s.scrape_native_histograms {
                        continue;
                    }
                    let explicit = h.timestamp_ms();
                    let key = h.series();
                    let seen = self.touch(key, iteration, explicit, s.honor_timestamps);
                    if matches!(seen, Touch::New) {
                        self.builder.clear();
                        h.labels(&mut self.builder);
                    }
                    (key, seen, 0.0, explicit, Some(h.histogram().clone()), None)
                }
            };
            out.scraped += 1;
            let sample_t = match explicit_t {
                Some(et) if s.honor_timestamps => et,
                _ => t,
            };
            let (series, labels, new) = match seen {
                Touch::Duplicate => {
                    // The same series twice in one scrape: the second sample is refused.
                    self.metrics.duplicate_timestamp.inc();
                    continue;
                }
                Touch::Dropped => continue,
                Touch::Known(r, l) => (r, l, false),
                Touch::New => {
                    let resolved = match self.sample_labels() {
                        Ok(l) => l,
                        Err(e) => {
                            out.error = Some(e);
                            return out;
                        }
                    };
                    let series = resolved.map(|l| series_store().intern(l));
                    self.cache.insert(
                        key,
                        CacheEntry {
                            series: series.clone(),
                            seen: iteration,
                            first_seen: iteration,
                            explicit_timestamp: explicit_t.is_some() && s.honor_timestamps,
                        },
                    );
                    match series {
                        Some((r, l)) => (r, l, true),
                        None => continue,
                    }
                }
            };
            if sample_t > now + 10 * 60 * 1000 {
                // Out of bounds: too far in the future.
                self.metrics.out_of_bounds.inc();
                continue;
            }
            out.post_relabel += 1;
            if new {
                out.added += 1;
            }
            if s.sample_limit > 0 && out.post_relabel as u64 > s.sample_limit {
                self.metrics.exceeded_sample_limit.inc();
                out.error = Some("sample limit exceeded".into());
                return out;
            }
            if let Some((name, typ, help, unit)) = family.as_ref().filter(|_| family_fresh) {
                if labels.metric_name().is_some_and(|m| m.starts_with(name.as_str())) {
                    family_fresh = false;
                }
                if !family_fresh && self.metadata_sent.get(name).is_none_or(|m| m.metric_type != *typ || m.help != *help || m.unit != *unit) {
                    let meta = Arc::new(Metadata { metric_family: name.clone(), metric_type: *typ, help: help.clone(), unit: unit.clone() });
                    self.metadata_sent.insert(name.clone(), meta.clone());
                    out.batch.metadata.push(MetadataUpdate { series, labels: labels.clone(), metadata: meta });
                }
            }
            if let Some(e) = exemplar {
                out.batch.exemplars.push(ExemplarSample { series, labels: labels.clone(), exemplar: e });
            }
            match histogram {
                Some(h) => out.batch.histograms.push(HistogramSample { series, labels, t: sample_t, histogram: Arc::new(h) }),
                None => out.batch.samples.push(Sample { series, labels, t: sample_t, v: value }),
            }
        }
        let gone = self.cache.finish();
        self.stale(&mut out.batch, gone, t, s.track_timestamps_staleness);
        out
    }

    /// Marks a scraped series seen in this scrape's cache pass (one lookup for a known series).
    fn touch(&mut self, key: &[u8], iteration: u64, explicit_t: Option<i64>, honor_timestamps: bool) -> Touch {
        let Some(e) = self.cache.get_mut(key) else { return Touch::New };
        let duplicate = e.seen == iteration;
        e.seen = iteration;
        e.explicit_timestamp = explicit_t.is_some() && honor_timestamps;
        if duplicate && explicit_t.is_none() {
            return Touch::Duplicate;
        }
        match &e.series {
            Some((r, l)) => Touch::Known(*r, l.clone()),
            None => Touch::Dropped,
        }
    }

    /// The labels of a new series from the parsed ones in `self.builder` and the target's
    /// (`honor_labels`), checked against the limits; `Ok(None)` drops the series.
    fn sample_labels(&mut self) -> Result<Option<Labels>, String> {
        let s = &self.settings;
        let b = &mut self.builder;
        if s.honor_labels {
            for (n, v) in self.target.public.iter() {
                if b.get(n).is_none() {
                    b.set(n, v);
                }
            }
        } else {
            let mut conflicts: Vec<(String, String)> = Vec::new();
            for (n, _) in self.target.public.iter() {
                if let Some(v) = b.get(n) {
                    conflicts.push((n.to_string(), v.to_string()));
                }
            }
            // Shortest names first, so `exported_x` from `x` wins over a longer chain.
            conflicts.sort_by_key(|(n, _)| n.len());
            for (n, v) in &conflicts {
                let mut name = format!("exported_{n}");
                while b.get(&name).is_some() {
                    name = format!("exported_{name}");
                }
                b.set(name, v.as_str());
            }
            for (n, v) in self.target.public.iter() {
                b.set(n, v);
            }
        }
        let labels = b.labels();
        let Some(name) = labels.metric_name() else {
            return Err("__name__ label is missing".into());
        };
        if s.legacy_names && !valid_metric_name(name) {
            return Err(format!("invalid metric name or label names: {labels}"));
        }
        if s.legacy_names && labels.iter().any(|(n, _)| !valid_label_name(n)) {
            return Err(format!("invalid metric name or label names: {labels}"));
        }
        if s.label_limit > 0 && labels.len() as u64 > s.label_limit {
            return Err(format!("label_limit exceeded (metric: {:.50}, number of labels: {}, limit: {})", name, labels.len(), s.label_limit));
        }
        for (n, v) in labels.iter() {
            if s.label_name_length_limit > 0 && n.len() as u64 > s.label_name_length_limit {
                return Err(format!(
                    "label_name_length_limit exceeded (metric: {:.50}, label name: {:.50}, length: {}, limit: {})",
                    name,
                    n,
                    n.len(),
                    s.label_name_length_limit
                ));
            }
            if s.label_value_length_limit > 0 && v.len() as u64 > s.label_value_length_limit {
                return Err(format!(
                    "label_value_length_limit exceeded (metric: {:.50}, label name: {:.50}, value: {:.50}, length: {}, limit: {})",
                    name,
                    n,
                    v,
                    v.len(),
                    s.label_value_length_limit
                ));
            }
        }
        Ok(Some(labels))
    }

    fn stale(&self, batch: &mut Batch, gone: Vec<Gone>, t: i64, include_explicit: bool) {
        for g in gone {
            if g.explicit_timestamp && !include_explicit {
                continue;
            }
            batch.samples.push(Sample { series: g.series, labels: g.labels, t, v: STALE_NAN });
        }
    }

    fn report_labels(&mut self, name: &'static str) -> (SeriesRef, Labels) {
        if let Some(x) = self.report.get(name) {
            return x.clone();
        }
        let mut b = self.target.public.builder();
        b.set(METRIC_NAME, name);
        let x = series_store().intern(b.into_labels());
        self.report.insert(name, x.clone());
        x
    }

    #[allow(clippy::too_many_arguments)]
    fn report_series(&mut self, batch: &mut Batch, t: i64, up: bool, duration: Duration, scraped: usize, post: usize, added: usize, body_size: i64) {
        let s = self.settings.clone();
        let mut series: Vec<(&'static str, f64)> = vec![
            ("up", if up { 1.0 } else { 0.0 }),
            ("scrape_duration_seconds", duration.as_secs_f64()),
            ("scrape_samples_scraped", scraped as f64),
            ("scrape_samples_post_metric_relabeling", post as f64),
            ("scrape_series_added", added as f64),
        ];
        if s.extra_metrics {
            series.push(("scrape_timeout_seconds", self.target.timeout.as_secs_f64()));
            series.push(("scrape_sample_limit", s.sample_limit as f64));
            series.push(("scrape_body_size_bytes", body_size as f64));
        }
        for (name, v) in series {
            let (r, labels) = self.report_labels(name);
            batch.samples.push(Sample { series: r, labels, t, v });
        }
    }

    /// The end of a removed target: every series it had, and its report series, go stale.
    fn mark_all_stale(&mut self) {
        let t = now_ms(SystemTime::now());
        let mut batch = Batch::default();
        let gone = self.cache.all();
        self.stale(&mut batch, gone, t, self.settings.track_timestamps_staleness);
        for (_, (r, labels)) in self.report.drain() {
            batch.samples.push(Sample { series: r, labels, t, v: STALE_NAN });
        }
        let _ = self.fanout.append(&batch);
    }
}

/// The decoded query parameters of a URL, in order.
fn query_of(url: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(url).map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()).unwrap_or_default()
}

pub fn valid_metric_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

pub fn valid_label_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
