//! `stage.metrics`: counters, gauges and histograms of extracted values, one series per
//! stream label set. The values live in a [`CustomMetrics`] store the component exposes (the
//! runtime turns it into its registry's families at every scrape).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::config::{MetricConfig, MetricKind, MetricsConfig};
use super::{ConfigError, Item, Stage};

/// One series' state.
#[derive(Clone, Debug)]
pub struct SeriesValue {
    /// Counter or gauge value; a histogram's sum.
    pub value: f64,
    /// Histogram: observations per bucket (not cumulative), and the count.
    pub buckets: Vec<u64>,
    pub count: u64,
    last: Instant,
}

/// A metric family as stages record it.
#[derive(Clone, Debug)]
pub struct Family {
    pub name: String,
    pub help: String,
    pub kind: MetricKind,
    /// Histogram upper bounds.
    pub bounds: Vec<f64>,
    pub series: BTreeMap<Vec<(String, String)>, SeriesValue>,
    max_idle: Duration,
}

/// The families every `stage.metrics` of a pipeline records into.
#[derive(Default)]
pub struct CustomMetrics(Mutex<Vec<Family>>);

impl CustomMetrics {
    /// The families now, series idle for longer than their `max_idle_duration` removed.
    pub fn snapshot(&self) -> Vec<Family> {
        let mut fams = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for f in fams.iter_mut() {
            let idle = f.max_idle;
            f.series.retain(|_, s| s.last.elapsed() < idle);
        }
        fams.clone()
    }

    fn with<R>(&self, index: usize, f: impl FnOnce(&mut Family) -> R) -> Option<R> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get_mut(index).map(f)
    }

    fn add(&self, fam: Family) -> usize {
        let mut fams = self.0.lock().unwrap_or_else(|e| e.into_inner());
        fams.push(fam);
        fams.len() - 1
    }

    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// A number from an extracted value: numbers, numeric text or a Go duration (seconds), booleans.
fn float_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => s.trim().parse::<f64>().ok().or_else(|| go_duration_secs(s)),
        _ => None,
    }
}

/// Go's `time.ParseDuration`, in seconds.
fn go_duration_secs(s: &str) -> Option<f64> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0.0);
    }
    let mut total = 0.0;
    let mut any = false;
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let num: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let units = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0), ("h", 3600.0)];
        let (u, mult) = units.iter().find(|(u, _)| rest.starts_with(u) && !(*u == "m" && rest.starts_with("ms")))?;
        rest = &rest[u.len()..];
        total += num * mult;
        any = true;
    }
    any.then_some(if neg { -total } else { total })
}

pub struct Metrics {
    store: Arc<CustomMetrics>,
    metrics: Vec<(usize, MetricConfig)>,
}

fn check(m: &MetricConfig) -> Result<(), ConfigError> {
    if m.name.is_empty() {
        return Err(ConfigError::new("metric name is required"));
    }
    if m.max_idle < Duration::from_secs(1) {
        return Err(ConfigError::new("max_idle_duration must be greater or equal than 1s"));
    }
    match &m.kind {
        MetricKind::Counter { action, match_all, count_entry_bytes } => {
            if action != "inc" && action != "add" {
                return Err(ConfigError::new("the 'action' counter field must be either 'inc' or 'add'"));
            }
            if *match_all && m.value.is_some() {
                return Err(ConfigError::new("a 'value' cannot be set when 'match_all' is true"));
            }
            if *count_entry_bytes && (!*match_all || action != "add") {
                return Err(ConfigError::new("'count_entry_bytes' can only be set to true when 'match_all' is true and 'action' is 'add'"));
            }
        }
        MetricKind::Gauge { action } => {
            if !["set", "inc", "dec", "add", "sub"].contains(&action.as_str()) {
                return Err(ConfigError::new("the 'action' gauge field must be one of 'set', 'inc', 'dec', 'add' or 'sub'"));
            }
        }
        MetricKind::Histogram { buckets } => {
            if buckets.is_empty() {
                return Err(ConfigError::new("buckets are required for histograms"));
            }
        }
    }
    Ok(())
}

impl Metrics {
    pub fn new(c: &MetricsConfig, store: Arc<CustomMetrics>) -> Result<Self, ConfigError> {
        let mut metrics = Vec::new();
        for m in &c.metrics {
            check(m)?;
        }
        for m in &c.metrics {
            let bounds = match &m.kind {
                MetricKind::Histogram { buckets } => {
                    let mut b = buckets.clone();
                    b.sort_by(f64::total_cmp);
                    b
                }
                _ => Vec::new(),
            };
            let fam = Family {
                name: format!("{}{}", m.prefix, m.name),
                help: m.description.clone(),
                kind: m.kind.clone(),
                bounds,
                series: BTreeMap::new(),
                max_idle: m.max_idle,
            };
            metrics.push((store.add(fam), m.clone()));
        }
        Ok(Metrics { store, metrics })
    }
}

impl Stage for Metrics {
    fn process(&mut self, item: Item, out: &mut Vec<Item>) {
        let labels: Vec<(String, String)> = item
            .labels
            .iter()
            .filter(|(n, v)| !n.starts_with("__") && !v.is_empty() && prom::relabel::is_legacy_name(n))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        for (index, m) in &self.metrics {
            let source = if m.source.is_empty() { &m.name } else { &m.source };
            let raw = item.extracted.get(source);
            if let MetricKind::Counter { match_all: true, count_entry_bytes, action } = &m.kind {
                let delta = if *count_entry_bytes && action == "add" { item.line.len() as f64 } else { 1.0 };
                self.record(*index, &labels, |s, _| s.value += delta);
                continue;
            }
            let Some(raw) = raw else { continue };
            if let Some(want) = &m.value {
                if super::value::get_string(raw).as_deref() != Some(want.as_str()) {
                    continue;
                }
            }
            let num = float_of(raw);
            match &m.kind {
                MetricKind::Counter { action, .. } => match (action.as_str(), num) {
                    ("inc", _) => self.record(*index, &labels, |s, _| s.value += 1.0),
                    ("add", Some(v)) if v >= 0.0 => self.record(*index, &labels, |s, _| s.value += v),
                    _ => {}
                },
                MetricKind::Gauge { action } => match (action.as_str(), num) {
                    ("inc", _) => self.record(*index, &labels, |s, _| s.value += 1.0),
                    ("dec", _) => self.record(*index, &labels, |s, _| s.value -= 1.0),
                    ("set", Some(v)) => self.record(*index, &labels, |s, _| s.value = v),
                    ("add", Some(v)) => self.record(*index, &labels, |s, _| s.value += v),
                    ("sub", Some(v)) => self.record(*index, &labels, |s, _| s.value -= v),
                    _ => {}
                },
                MetricKind::Histogram { .. } => {
                    if let Some(v) = num {
                        self.record(*index, &labels, |s, bounds| {
                            if let Some(i) = bounds.iter().position(|b| v <= *b) {
                                s.buckets[i] += 1;
                            }
                            s.value += v;
                            s.count += 1;
                        });
                    }
                }
            }
        }
        out.push(item);
    }
}

impl Metrics {
    fn record(&self, index: usize, labels: &[(String, String)], f: impl FnOnce(&mut SeriesValue, &[f64])) {
        self.store.with(index, |fam| {
            let n = fam.bounds.len();
            let s = fam.series.entry(labels.to_vec()).or_insert_with(|| SeriesValue { value: 0.0, buckets: vec![0; n], count: 0, last: Instant::now() });
            s.last = Instant::now();
            f(s, &fam.bounds);
        });
    }
}
