//! `prometheus.relabel`: relabels every series it receives with its `rule` blocks and
//! forwards the survivors. Each series is relabelled once and the result cached (bounded
//! by `max_cache_size`, or by age with `cache_ttl`); a stale marker forgets its series after
//! being forwarded, and new rules clear the cache.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eval::{Object, Value};
use prom::labels::Labels;
use prom::relabel::{process_labels, NameValidation, Rule};
use prom::sample::{Batch, SeriesRef};

use super::receiver::{AppendError, Appendable, Fanout, ReceiverHandle};
use super::rules::{read_rules, RulesHandle};
use super::series_store;
use crate::bounded_cache::BoundedCache;
use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};
use crate::metrics::{Counter, Gauge};

const NAME: &str = "prometheus.relabel";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["receiver", "rules"], build);

#[derive(Default)]
pub struct Args {
    pub forward_to: Vec<ReceiverHandle>,
    pub rules: Vec<Rule>,
    pub max_cache_size: i64,
    pub cache_ttl: Duration,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args { forward_to: r.get("forward_to"), rules: read_rules(r, "rule"), max_cache_size: r.get("max_cache_size"), cache_ttl: r.get::<Dur>("cache_ttl").0 }
    }

    /// Upstream's checks in its order; the first failure is the one reported.
    fn validate(&self, r: &mut Reader<'_>) {
        let (size, ttl_set) = (self.max_cache_size > 0, !self.cache_ttl.is_zero());
        let failure: Option<(&[&str], String)> = if self.max_cache_size < 0 {
            Some((&["max_cache_size"], format!("max_cache_size must be >= 0; got {}", self.max_cache_size)))
        } else if size && ttl_set {
            let msg = "max_cache_size and cache_ttl are mutually exclusive: set max_cache_size = 0 to use cache_ttl, or unset cache_ttl to keep the bounded LRU cache";
            Some((&["max_cache_size", "cache_ttl"], msg.to_string()))
        } else if !size && !ttl_set {
            Some((&["max_cache_size", "cache_ttl"], "one of max_cache_size or cache_ttl must be set".to_string()))
        } else if ttl_set && self.cache_ttl < Duration::from_secs(60) {
            Some((&["cache_ttl"], format!("cache_ttl must be at least 1m0s when set; got {}", go_duration(self.cache_ttl))))
        } else {
            None
        };
        if let Some((fields, msg)) = failure {
            r.check(false, fields, msg);
        }
    }
}

/// Go's `time.Duration` text for the messages that print one (`30s`, `1m0s`).
fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let ms = d.subsec_millis();
    if secs == 0 && ms > 0 {
        return format!("{ms}ms");
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let frac = if ms > 0 { format!(".{ms:03}").trim_end_matches('0').to_string() } else { String::new() };
    match (h, m) {
        (0, 0) => format!("{s}{frac}s"),
        (0, _) => format!("{m}m{s}{frac}s"),
        _ => format!("{h}h{m}m{s}{frac}s"),
    }
}

struct CacheEntry {
    result: Option<(SeriesRef, Labels)>,
    inserted: Instant,
}

type Cache = BoundedCache<SeriesRef, CacheEntry>;

struct State {
    rules: Arc<Vec<Rule>>,
    max_size: usize,
    ttl: Duration,
    cache: Cache,
}

struct Metrics {
    processed: Counter,
    written: Counter,
    hits: Counter,
    misses: Counter,
    deletes: Counter,
    ttl_evictions: Counter,
    size: Gauge,
}

pub struct Relabel {
    fanout: Fanout,
    state: Mutex<State>,
    metrics: Metrics,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let rules = Arc::new(args.rules.clone());
    let c = relabeller(&ctx, args);
    let mut exports = Object::new();
    exports.insert("receiver", ReceiverHandle::new(ctx.id(), c.clone()).to_value());
    exports.insert("rules", RulesHandle(rules).to_value());
    ctx.set_exports(Value::object(exports));
    // The receiver must stay the same object across updates: dependants hold it.
    Ok(Arc::new(Shared { inner: c, ctx }))
}

/// The receiver half of the component.
fn relabeller(ctx: &Context, args: Args) -> Arc<Relabel> {
    let m = |n: &str, h: &str| ctx.counter_exact(n, h, &[]);
    let metrics = Metrics {
        processed: m("alloy_prometheus_relabel_metrics_processed", "Total number of metrics processed"),
        written: m("alloy_prometheus_relabel_metrics_written", "Total number of metrics written"),
        hits: m("alloy_prometheus_relabel_cache_hits", "Total number of cache hits"),
        misses: m("alloy_prometheus_relabel_cache_misses", "Total number of cache misses"),
        deletes: m("alloy_prometheus_relabel_cache_deletes", "Total number of cache deletes"),
        ttl_evictions: m("alloy_prometheus_relabel_cache_ttl_evictions", "Total number of cache entries evicted because their TTL expired"),
        size: ctx.gauge("alloy_prometheus_relabel_cache_size", "Total size of relabel cache", &[]),
    };
    Arc::new(Relabel {
        fanout: Fanout::new(args.forward_to).tapped(ctx),
        state: Mutex::new(State { rules: Arc::new(args.rules), max_size: args.max_cache_size.max(0) as usize, ttl: args.cache_ttl, cache: Cache::default() }),
        metrics,
    })
}

/// The component the controller holds; the receiver is the inner `Relabel`.
struct Shared {
    inner: Arc<Relabel>,
    ctx: Context,
}

impl Component for Shared {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.inner.fanout.set(args.forward_to);
        let rules = Arc::new(args.rules);
        {
            let mut st = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
            if *st.rules != *rules {
                st.cache = Cache::default();
            }
            st.rules = rules.clone();
            st.max_size = args.max_cache_size.max(0) as usize;
            st.ttl = args.cache_ttl;
        }
        let mut exports = Object::new();
        exports.insert("receiver", ReceiverHandle::new(self.ctx.id(), self.inner.clone()).to_value());
        exports.insert("rules", RulesHandle(rules).to_value());
        self.ctx.set_exports(Value::object(exports));
        Ok(())
    }
}

impl State {
    /// The relabelled series for `series`, from the cache or computed now.
    fn relabel(&mut self, series: SeriesRef, labels: &Labels, m: &Metrics) -> Option<(SeriesRef, Labels)> {
        let key = if series.0 == 0 { series_store().intern(labels.clone()).0 } else { series };
        if let Some(e) = self.cache.get(&key) {
            if self.ttl.is_zero() || e.inserted.elapsed() < self.ttl {
                m.hits.inc();
                return e.result.clone();
            }
            m.ttl_evictions.inc();
        }
        m.misses.inc();
        let result = process_labels(&self.rules, labels, NameValidation::Legacy).filter(|l| !l.is_empty()).map(|l| series_store().intern(l));
        self.cache.insert(key, CacheEntry { result: result.clone(), inserted: Instant::now() }, self.max_size);
        result
    }

    fn forget(&mut self, series: SeriesRef, m: &Metrics) {
        if self.cache.remove(&series).is_some() {
            m.deletes.inc();
        }
    }
}

impl Appendable for Relabel {
    fn append(&self, batch: &Batch) -> Result<(), AppendError> {
        let m = &self.metrics;
        let mut out = Batch { samples: Vec::with_capacity(batch.samples.len()), ..Batch::default() };
        {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            // Load the cached results all at once first (see `prom::labels::warm`).
            prom::labels::warm(batch.samples.iter().filter_map(|s| st.cache.get(&s.series)).filter_map(|e| e.result.as_ref().map(|(_, l)| l)));
            for s in &batch.samples {
                m.processed.inc();
                if let Some((r, l)) = st.relabel(s.series, &s.labels, m) {
                    out.samples.push(prom::Sample { series: r, labels: l, t: s.t, v: s.v });
                }
            }
            for h in &batch.histograms {
                m.processed.inc();
                if let Some((r, l)) = st.relabel(h.series, &h.labels, m) {
                    out.histograms.push(prom::sample::HistogramSample { series: r, labels: l, t: h.t, histogram: h.histogram.clone() });
                }
            }
            for e in &batch.exemplars {
                if let Some((r, l)) = st.relabel(e.series, &e.labels, m) {
                    out.exemplars.push(prom::sample::ExemplarSample { series: r, labels: l, exemplar: e.exemplar.clone() });
                }
            }
            for md in &batch.metadata {
                if let Some((r, l)) = st.relabel(md.series, &md.labels, m) {
                    out.metadata.push(prom::sample::MetadataUpdate { series: r, labels: l, metadata: md.metadata.clone() });
                }
            }
            m.size.set(st.cache.len() as f64);
        }
        m.written.add(out.len() as u64);
        let result = self.fanout.append(&out);
        // A stale marker ends its series: its cache entry goes after forwarding.
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for s in batch.samples.iter().filter(|s| s.is_stale()) {
            st.forget(s.series, m);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::receiver::Collect;
    use prom::sample::{Sample, STALE_NAN};

    fn relabel(body: &str) -> (Arc<Relabel>, Arc<Collect>) {
        let v = crate::component::args::evaluated(&format!("prometheus.relabel \"r\" {{\n  forward_to = []\n{body}\n}}\n")).expect("evaluates");
        let mut args: Args = decode_checked(NAME, &v).expect("valid");
        let (collect, handle) = Collect::handle();
        args.forward_to = vec![handle];
        (relabeller(&crate::component::detached_context("prometheus.relabel.r"), args), collect)
    }

    fn sample(pairs: &[(&str, &str)], v: f64) -> Sample {
        let (series, labels) = series_store().intern(Labels::new(pairs.iter().copied()));
        Sample { series, labels, t: 1000, v }
    }

    #[test]
    fn rules_apply_once_per_series_and_dropped_series_are_swallowed() {
        let (r, out) = relabel("  rule {\n    source_labels = [\"__name__\"]\n    regex = \"drop_.*\"\n    action = \"drop\"\n  }\n  rule {\n    target_label = \"env\"\n    replacement = \"prod\"\n  }");
        let batch = Batch { samples: vec![sample(&[("__name__", "keep_me")], 1.0), sample(&[("__name__", "drop_me")], 2.0)], ..Batch::default() };
        r.append(&batch).expect("appends");
        r.append(&batch).expect("appends");
        let got = out.take();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].samples.len(), 1);
        assert_eq!(got[0].samples[0].labels, Labels::new([("__name__", "keep_me"), ("env", "prod")]));
        assert_eq!((r.metrics.misses.get(), r.metrics.hits.get()), (2, 2), "each series relabelled once, dropped ones cached too");
        assert_eq!((r.metrics.processed.get(), r.metrics.written.get()), (4, 2));
    }

    #[test]
    fn a_stale_marker_is_forwarded_then_forgets_its_series() {
        let (r, out) = relabel("  rule {\n    target_label = \"a\"\n    replacement = \"b\"\n  }");
        r.append(&Batch { samples: vec![sample(&[("__name__", "x")], 1.0)], ..Batch::default() }).expect("appends");
        r.append(&Batch { samples: vec![sample(&[("__name__", "x")], STALE_NAN)], ..Batch::default() }).expect("appends");
        let got = out.take();
        assert!(got[1].samples[0].is_stale(), "the marker goes through with the relabelled series");
        assert_eq!(r.state.lock().map(|s| s.cache.len()).unwrap_or(1), 0);
        assert_eq!(r.metrics.deletes.get(), 1);
    }

    #[test]
    fn the_cache_stays_within_its_size() {
        let (r, _) = relabel("  max_cache_size = 10");
        for i in 0..100 {
            r.append(&Batch { samples: vec![sample(&[("__name__", "x"), ("i", &i.to_string())], 1.0)], ..Batch::default() }).expect("appends");
        }
        assert!(r.state.lock().map(|s| s.cache.len()).unwrap_or(100) <= 10);
    }

    #[test]
    fn cache_settings_are_checked() {
        let check = |body: &str| {
            let v = crate::component::args::evaluated(&format!("prometheus.relabel \"r\" {{\n  forward_to = []\n{body}\n}}\n")).expect("evaluates");
            crate::component::args::check::<Args>(NAME, &v).into_iter().map(|e| e.message).collect::<Vec<_>>()
        };
        assert_eq!(check("  max_cache_size = 0"), ["one of max_cache_size or cache_ttl must be set"]);
        assert_eq!(
            check("  cache_ttl = \"30s\""),
            ["max_cache_size and cache_ttl are mutually exclusive: set max_cache_size = 0 to use cache_ttl, or unset cache_ttl to keep the bounded LRU cache"]
        );
        assert_eq!(check("  max_cache_size = 0\n  cache_ttl = \"30s\""), ["cache_ttl must be at least 1m0s when set; got 30s"]);
        assert_eq!(check("  max_cache_size = -1"), ["max_cache_size must be >= 0; got -1"]);
        assert!(check("  rule {\n    action = \"nope\"\n  }")[0].contains("unrecognized action type \"nope\""));
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
    }
}
