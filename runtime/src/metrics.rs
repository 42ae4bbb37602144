//! The process metrics registry and its Prometheus text exposition (`/metrics`).
//!
//! Handles are cheap clones of shared atomics: a component increments its counter without
//! locking. Registering the same name and labels twice returns the same series (a component
//! rebuilt under the same ID keeps counting). Collectors compute families at scrape time
//! (process resources, controller state).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub type Labels = Vec<(String, String)>;

#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// An `f64` stored as its bits.
#[derive(Clone, Debug, Default)]
pub struct Gauge(Arc<AtomicU64>);

impl Gauge {
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }

    pub fn add(&self, v: f64) {
        // A compare-and-swap loop: gauges are shared between tasks.
        let _ = self.0.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| Some((f64::from_bits(bits) + v).to_bits()));
    }

    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// A cumulative histogram with fixed upper bounds.
#[derive(Clone, Debug)]
pub struct Histogram(Arc<HistogramInner>);

#[derive(Debug)]
struct HistogramInner {
    bounds: Vec<f64>,
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum: Gauge,
}

impl Histogram {
    fn new(bounds: &[f64]) -> Self {
        Histogram(Arc::new(HistogramInner {
            bounds: bounds.to_vec(),
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum: Gauge::default(),
        }))
    }

    pub fn observe(&self, v: f64) {
        for (b, c) in self.0.bounds.iter().zip(&self.0.buckets) {
            if v <= *b {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.0.count.fetch_add(1, Ordering::Relaxed);
        self.0.sum.add(v);
    }

    pub fn count(&self) -> u64 {
        self.0.count.load(Ordering::Relaxed)
    }
}

/// A summary without quantiles: the count and the sum of the observations (what upstream's
/// summaries expose besides their quantile estimates).
#[derive(Clone, Debug, Default)]
pub struct Summary(Arc<SummaryInner>);

#[derive(Debug, Default)]
struct SummaryInner {
    count: AtomicU64,
    sum: Gauge,
}

impl Summary {
    pub fn observe(&self, v: f64) {
        self.0.count.fetch_add(1, Ordering::Relaxed);
        self.0.sum.add(v);
    }

    pub fn count(&self) -> u64 {
        self.0.count.load(Ordering::Relaxed)
    }

    pub fn sum(&self) -> f64 {
        self.0.sum.get()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
        }
    }
}

/// A family computed at scrape time: samples are `(name suffix, labels, value)`.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub name: String,
    pub help: String,
    pub kind: Kind,
    pub samples: Vec<(&'static str, Labels, f64)>,
}

impl Snapshot {
    pub fn new(name: &str, help: &str, kind: Kind) -> Self {
        Snapshot { name: name.into(), help: help.into(), kind, samples: Vec::new() }
    }

    pub fn sample(mut self, labels: &[(&str, &str)], value: f64) -> Self {
        self.samples.push(("", labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), value));
        self
    }
}

#[derive(Clone, Debug)]
enum Series {
    Counter(Counter),
    Gauge(Gauge),
    Histogram(Histogram),
    Summary(Summary),
}

struct Family {
    help: String,
    kind: Kind,
    series: Vec<(Labels, Series)>,
}

type Collector = Box<dyn Fn() -> Vec<Snapshot> + Send + Sync>;

#[derive(Default)]
pub struct Registry {
    families: Mutex<BTreeMap<String, Family>>,
    collectors: Mutex<Vec<Collector>>,
}

impl Registry {
    pub fn new() -> Arc<Registry> {
        Arc::new(Registry::default())
    }

    /// A counter; `_total` is appended to names that lack it.
    pub fn counter(&self, name: &str, help: &str, labels: &[(String, String)]) -> Counter {
        let name = if name.ends_with("_total") { name.to_string() } else { format!("{name}_total") };
        self.counter_exact(&name, help, labels)
    }

    /// A counter exposed under exactly `name` (upstream's Prometheus components register
    /// some counters without the `_total` suffix, and dashboards use those names).
    pub fn counter_exact(&self, name: &str, help: &str, labels: &[(String, String)]) -> Counter {
        match self.series(name, help, Kind::Counter, labels, || Series::Counter(Counter::default())) {
            Series::Counter(c) => c,
            // The name is registered with another type: a detached handle keeps the caller working.
            _ => Counter::default(),
        }
    }

    pub fn gauge(&self, name: &str, help: &str, labels: &[(String, String)]) -> Gauge {
        match self.series(name, help, Kind::Gauge, labels, || Series::Gauge(Gauge::default())) {
            Series::Gauge(g) => g,
            _ => Gauge::default(),
        }
    }

    pub fn histogram(&self, name: &str, help: &str, labels: &[(String, String)], bounds: &[f64]) -> Histogram {
        match self.series(name, help, Kind::Histogram, labels, || Series::Histogram(Histogram::new(bounds))) {
            Series::Histogram(h) => h,
            _ => Histogram::new(bounds),
        }
    }

    /// A summary (count and sum only, see [`Summary`]).
    pub fn summary(&self, name: &str, help: &str, labels: &[(String, String)]) -> Summary {
        match self.series(name, help, Kind::Summary, labels, || Series::Summary(Summary::default())) {
            Series::Summary(s) => s,
            _ => Summary::default(),
        }
    }

    fn series(&self, name: &str, help: &str, kind: Kind, labels: &[(String, String)], make: impl FnOnce() -> Series) -> Series {
        let mut families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        let family = families.entry(name.to_string()).or_insert_with(|| Family { help: help.to_string(), kind, series: Vec::new() });
        if family.kind != kind {
            return make();
        }
        if let Some((_, s)) = family.series.iter().find(|(l, _)| l.as_slice() == labels) {
            return s.clone();
        }
        let s = make();
        family.series.push((labels.to_vec(), s.clone()));
        s
    }

    /// Drops every series labelled `component_id=<id>` and `component_path=<path>` (the
    /// component was removed).
    pub fn remove_component(&self, id: &str, path: &str) {
        let mut families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        let has = |labels: &[(String, String)], key: &str, value: &str| labels.iter().any(|(k, v)| k == key && v == value);
        for f in families.values_mut() {
            f.series.retain(|(labels, _)| !(has(labels, "component_id", id) && has(labels, "component_path", path)));
        }
        families.retain(|_, f| !f.series.is_empty());
    }

    /// Drops a whole family (a gauge whose labels change, like a hash).
    pub fn remove_family(&self, name: &str) {
        self.families.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
    }

    /// Adds families computed at every scrape.
    pub fn register_collector(&self, collector: impl Fn() -> Vec<Snapshot> + Send + Sync + 'static) {
        self.collectors.lock().unwrap_or_else(|e| e.into_inner()).push(Box::new(collector));
    }

    /// Every family, sorted by name.
    pub fn gather(&self) -> Vec<Snapshot> {
        let mut out: Vec<Snapshot> = Vec::new();
        {
            let families = self.families.lock().unwrap_or_else(|e| e.into_inner());
            for (name, f) in families.iter() {
                let mut snap = Snapshot::new(name, &f.help, f.kind);
                for (labels, s) in &f.series {
                    match s {
                        Series::Counter(c) => snap.samples.push(("", labels.clone(), c.get() as f64)),
                        Series::Gauge(g) => snap.samples.push(("", labels.clone(), g.get())),
                        Series::Histogram(h) => histogram_samples(h, labels, &mut snap.samples),
                        Series::Summary(s) => {
                            snap.samples.push(("_sum", labels.clone(), s.sum()));
                            snap.samples.push(("_count", labels.clone(), s.count() as f64));
                        }
                    }
                }
                out.push(snap);
            }
        }
        for c in self.collectors.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            out.extend(c());
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        render_families(self.gather())
    }
}

/// Families in the Prometheus text exposition format (version 0.0.4); empty ones are left out.
pub fn render_families(families: impl IntoIterator<Item = Snapshot>) -> String {
    let mut out = String::new();
    for f in families {
        if f.samples.is_empty() {
            continue;
        }
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help.replace('\\', "\\\\").replace('\n', "\\n"));
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
        for (suffix, labels, value) in &f.samples {
            out.push_str(&f.name);
            out.push_str(suffix);
            if !labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{k}=\"{}\"", escape_label(v));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", format_value(*value));
        }
    }
    out
}

fn histogram_samples(h: &Histogram, labels: &Labels, out: &mut Vec<(&'static str, Labels, f64)>) {
    for (b, c) in h.0.bounds.iter().zip(&h.0.buckets) {
        let mut l = labels.clone();
        l.push(("le".into(), format_value(*b)));
        out.push(("_bucket", l, c.load(Ordering::Relaxed) as f64));
    }
    let mut l = labels.clone();
    l.push(("le".into(), "+Inf".into()));
    out.push(("_bucket", l, h.count() as f64));
    out.push(("_sum", labels.clone(), h.0.sum.get()));
    out.push(("_count", labels.clone(), h.count() as f64));
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_families_sorted_with_labels_and_total_suffix() {
        let r = Registry::new();
        let c = r.counter("otelcol_receiver_accepted_spans", "Spans accepted.", &[("component_id".into(), "a\"b".into())]);
        c.add(3);
        r.gauge("alloy_up", "Up.", &[]).set(1.5);
        let text = r.render();
        assert_eq!(
            text,
            "# HELP alloy_up Up.\n# TYPE alloy_up gauge\nalloy_up 1.5\n\
             # HELP otelcol_receiver_accepted_spans_total Spans accepted.\n# TYPE otelcol_receiver_accepted_spans_total counter\n\
             otelcol_receiver_accepted_spans_total{component_id=\"a\\\"b\"} 3\n"
        );
    }

    #[test]
    fn same_series_is_shared_and_removed_with_its_component() {
        let r = Registry::new();
        let at = |path: &str| vec![("component_id".to_string(), "x".to_string()), ("component_path".to_string(), path.to_string())];
        r.counter("c", "h", &at("/")).inc();
        r.counter("c", "h", &at("/")).inc();
        assert_eq!(r.counter("c_total", "h", &at("/")).get(), 2);
        // The same local ID inside a module is another component.
        r.counter("c", "h", &at("/m.a")).inc();
        r.remove_component("x", "/");
        assert!(!r.render().contains("component_path=\"/\""), "{}", r.render());
        assert!(r.render().contains("component_path=\"/m.a\""), "{}", r.render());
        r.remove_component("x", "/m.a");
        assert_eq!(r.render(), "");
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let r = Registry::new();
        let h = r.histogram("h", "help", &[], &[0.1, 1.0]);
        h.observe(0.05);
        h.observe(0.5);
        let text = r.render();
        assert!(text.contains("h_bucket{le=\"0.1\"} 1\n"), "{text}");
        assert!(text.contains("h_bucket{le=\"1\"} 2\n"), "{text}");
        assert!(text.contains("h_bucket{le=\"+Inf\"} 2\nh_sum 0.55\nh_count 2\n"), "{text}");
    }

    #[test]
    fn summaries_expose_sum_and_count() {
        let r = Registry::new();
        let s = r.summary("s_seconds", "help", &[]);
        s.observe(0.25);
        s.observe(0.5);
        assert_eq!(r.render(), "# HELP s_seconds help\n# TYPE s_seconds summary\ns_seconds_sum 0.75\ns_seconds_count 2\n");
    }
}
