//! `loki.secretfilter`: redacts secrets in the lines of the entries it receives and forwards
//! them. Secrets are found with gitleaks' rules: its default configuration (shipped as
//! `gitleaks.toml`, parsed at startup) or a `gitleaks_config` file ([`config`]), by the
//! [`detect`] module's port of gitleaks' detector. Each secret found is replaced everywhere in
//! the line by the `redact_with` template (`$SECRET_NAME`, `$SECRET_HASH`) or, without one, by
//! its first `100 - redact_percent` percent followed by `...`. `rate` samples the entries that
//! are scanned, and `processing_timeout` bounds the scan of one entry (the line is then
//! forwarded with what was found, or dropped with `drop_on_timeout`). Labels and structured
//! metadata are not scanned.
//!
//! Where this differs from upstream: findings are redacted in rule order (upstream's order is
//! Go's random map order, which matters only when two secrets overlap); a finding whose secret
//! is empty is skipped (upstream would insert the placeholder between every character); a
//! pattern that does not compile is a configuration error (gitleaks panics);
//! `processing_duration_seconds` has its count and sum but no quantiles; live debugging is not
//! offered.

pub mod config;
pub mod detect;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use eval::{Object, Value};
use loki::Entry;
use sha1::{Digest, Sha1};
use tokio_util::sync::CancellationToken;

use self::config::ConfigError;
use self::detect::{Detector, Finding};
use super::receiver::{Entries, Fanout, Inbox, LogsReceiver};
use crate::component::args::decode_checked;
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::metrics::{Counter, Summary};

const NAME: &str = "loki.secretfilter";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["receiver"], build);

/// Upstream's `defaultRedactPercent`, used when `redact_percent` is outside 1..=100.
const DEFAULT_REDACT_PERCENT: u64 = 80;

#[derive(Default)]
pub struct Args {
    pub forward_to: Vec<LogsReceiver>,
    pub origin_label: String,
    pub redact_with: String,
    pub redact_percent: u64,
    pub gitleaks_config: String,
    pub rate: f64,
    pub processing_timeout: Duration,
    pub drop_on_timeout: bool,
    pub label_timed_out: bool,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args {
            forward_to: r.get("forward_to"),
            origin_label: r.get("origin_label"),
            redact_with: r.get("redact_with"),
            redact_percent: r.get("redact_percent"),
            gitleaks_config: r.get("gitleaks_config"),
            rate: r.get("rate"),
            // Upstream tests `> 0`: a negative timeout is no timeout, not an error.
            processing_timeout: r.get::<eval::decode::Duration>("processing_timeout").to_std().unwrap_or_default(),
            drop_on_timeout: r.get("drop_on_timeout"),
            label_timed_out: r.get("label_timed_out"),
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        // Upstream's sampling.ValidateRate, prefixed by the component.
        let ok = (0.0..=1.0).contains(&self.rate);
        r.check(ok, &["rate"], format!("secretfilter: rate must be between 0.0 and 1.0, received {:.6}", self.rate));
    }
}

/// The detector for `gitleaks_config` (the built-in rules when empty, shared by every instance).
pub fn detector_for(gitleaks_config: &str) -> Result<Arc<Detector>, ConfigError> {
    if gitleaks_config.is_empty() {
        static DEFAULT: std::sync::OnceLock<Result<Arc<Detector>, ConfigError>> = std::sync::OnceLock::new();
        return DEFAULT.get_or_init(|| config::default_config().map(|c| Arc::new(Detector::new(c)))).clone();
    }
    config::load_file(gitleaks_config).map(|c| Arc::new(Detector::new(c)))
}

/// What one set of arguments means while running.
struct Settings {
    detector: Arc<Detector>,
    origin_label: String,
    redact_with: String,
    /// 1..=100.
    redact_percent: u64,
    rate: f64,
    timeout: Option<Duration>,
    drop_on_timeout: bool,
    label_timed_out: bool,
}

impl Settings {
    fn new(ctx: &Context, args: &Args) -> Result<Settings, ComponentError> {
        let detector = detector_for(&args.gitleaks_config).map_err(|e| ComponentError::new(format!("failed to create gitleaks detector: {e}")))?;
        for w in &detector.warnings {
            crate::component::log(ctx.id(), tracing::Level::WARN, &format!("gitleaks config: {w}"));
        }
        Ok(Settings {
            detector,
            origin_label: args.origin_label.clone(),
            redact_with: args.redact_with.clone(),
            redact_percent: if (1..=100).contains(&args.redact_percent) { args.redact_percent } else { DEFAULT_REDACT_PERCENT },
            rate: args.rate,
            timeout: (!args.processing_timeout.is_zero()).then_some(args.processing_timeout),
            drop_on_timeout: args.drop_on_timeout,
            label_timed_out: args.label_timed_out,
        })
    }
}

struct Metrics {
    ctx: Context,
    redacted: Counter,
    by_category: Mutex<HashMap<(String, String), Counter>>,
    duration: Summary,
    bypassed: Counter,
    timed_out: Counter,
    dropped: Counter,
}

impl Metrics {
    fn new(ctx: &Context) -> Self {
        let c = |name: &str, help: &str| ctx.counter(name, help, &[]);
        Metrics {
            ctx: ctx.clone(),
            redacted: c("loki_secretfilter_secrets_redacted_total", "Total number of secrets that have been redacted."),
            by_category: Mutex::new(HashMap::new()),
            duration: ctx.summary("loki_secretfilter_processing_duration_seconds", "Summary of the time taken to process and redact logs in seconds.", &[]),
            bypassed: c("loki_secretfilter_entries_bypassed_total", "Total number of entries forwarded without processing due to sampling."),
            timed_out: c(
                "loki_secretfilter_lines_timed_out_total",
                "Total number of log lines that exceeded the processing timeout, regardless of whether they were dropped or forwarded unredacted.",
            ),
            dropped: c("loki_secretfilter_lines_dropped_total", "Total number of log lines dropped due to processing timeout."),
        }
    }

    fn redacted(&self, rule: &str, origin: &str) {
        self.redacted.inc();
        let mut m = self.by_category.lock().unwrap_or_else(|e| e.into_inner());
        m.entry((rule.to_string(), origin.to_string()))
            .or_insert_with(|| {
                self.ctx.counter(
                    "loki_secretfilter_secrets_redacted_by_category_total",
                    "Number of secrets redacted, partitioned by rule name and origin label value.",
                    &[("rule", rule), ("origin", origin)],
                )
            })
            .inc();
    }
}

pub struct SecretFilter {
    ctx: Context,
    inbox: Inbox,
    fanout: Fanout,
    settings: RwLock<Arc<Settings>>,
    /// xorshift64* state for `rate`.
    rng: Mutex<u64>,
    metrics: Metrics,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let c = filter(ctx, args)?;
    let mut exports = Object::new();
    exports.insert("receiver", c.inbox.receiver().to_value());
    c.ctx.set_exports(Value::object(exports));
    Ok(c)
}

fn filter(ctx: Context, args: Args) -> Result<Arc<SecretFilter>, ComponentError> {
    let settings = Settings::new(&ctx, &args)?;
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
    Ok(Arc::new(SecretFilter {
        inbox: Inbox::new(ctx.id()),
        fanout: Fanout::new(args.forward_to).tapped(&ctx),
        settings: RwLock::new(Arc::new(settings)),
        rng: Mutex::new(seed | 1),
        metrics: Metrics::new(&ctx),
        ctx,
    }))
}

impl SecretFilter {
    fn settings(&self) -> Arc<Settings> {
        self.settings.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether this entry is scanned (probability `rate`).
    fn sampled(&self, rate: f64) -> bool {
        if rate >= 1.0 {
            return true;
        }
        if rate <= 0.0 {
            return false;
        }
        let mut s = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        let u = (s.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
        u < rate
    }

    /// The entries to forward: lines redacted, timed-out ones dropped or labelled as asked.
    fn process(&self, entries: Entries) -> Entries {
        let s = self.settings();
        entries.into_iter().filter_map(|e| self.process_entry(&s, e)).collect()
    }

    fn process_entry(&self, s: &Settings, mut entry: Entry) -> Option<Entry> {
        if !self.sampled(s.rate) {
            self.metrics.bypassed.inc();
            return Some(entry);
        }
        let start = Instant::now();
        let scan = s.detector.detect(&entry.line, s.timeout.map(|t| start + t));
        if scan.timed_out {
            self.metrics.timed_out.inc();
            if s.drop_on_timeout {
                self.metrics.dropped.inc();
                self.metrics.duration.observe(start.elapsed().as_secs_f64());
                return None;
            }
        }
        let redacted = (!scan.findings.is_empty()).then(|| self.redact(s, &entry, &scan.findings));
        let timed_out = scan.timed_out;
        drop(scan);
        if let Some(line) = redacted {
            entry.line = line;
        }
        if timed_out && s.label_timed_out {
            let mut b = entry.labels.builder();
            b.set("secretfilter", "timed-out");
            entry.labels = b.labels();
        }
        self.metrics.duration.observe(start.elapsed().as_secs_f64());
        Some(entry)
    }

    /// Upstream's `redactLine`: each finding's secret replaced everywhere in the line, in turn.
    fn redact(&self, s: &Settings, entry: &Entry, findings: &[Finding<'_>]) -> String {
        let origin = if s.origin_label.is_empty() { "" } else { entry.labels.get(&s.origin_label).unwrap_or("") };
        let mut line = entry.line.clone();
        for f in findings {
            let rule = &s.detector.rule(f.rule).id;
            let replacement = if s.redact_with.is_empty() {
                mask(f.secret, s.redact_percent)
            } else {
                s.redact_with.replace("$SECRET_NAME", rule).replace("$SECRET_HASH", &sha1_hex(f.secret))
            };
            line = line.replace(f.secret, &replacement);
            self.metrics.redacted(rule, origin);
        }
        line
    }
}

/// gitleaks' `Finding.Redact(percent)`: the first `100 - percent` percent of the secret (rounded
/// half to even) and `...`; all of it at 100 percent is `REDACTED`.
pub fn mask(secret: &str, percent: u64) -> String {
    if percent >= 100 {
        return "REDACTED".to_string();
    }
    let keep = (secret.len() as f64 * (100 - percent) as f64 / 100.0).round_ties_even() as usize;
    let mut keep = keep.min(secret.len());
    // gitleaks cuts bytes; a cut inside a character moves back to its start.
    while !secret.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}...", &secret[..keep])
}

/// `$SECRET_HASH`: the SHA-1 of the secret in hex.
fn sha1_hex(secret: &str) -> String {
    Sha1::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl Component for SecretFilter {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        let settings = Settings::new(&self.ctx, &args)?;
        self.fanout.set(args.forward_to);
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(settings);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            self.inbox.serve_and_forward(shutdown, self.ctx.id(), &self.fanout, |entries| self.process(entries)).await;
            Ok(())
        })
    }
}
