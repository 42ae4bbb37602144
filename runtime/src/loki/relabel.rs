//! `loki.relabel`: rewrites each entry's stream labels with `rule` blocks (the same engine as
//! `prometheus.relabel`) and forwards it; an entry left with no labels is dropped. Lines,
//! timestamps and structured metadata pass untouched. Results are cached per label set.

use std::sync::{Arc, Mutex};

use eval::{Object, Value};
use prom::relabel::{process_labels, NameValidation, Rule};
use prom::Labels;
use tokio_util::sync::CancellationToken;

use super::receiver::{Entries, Fanout, Inbox, LogsReceiver};
use crate::bounded_cache::BoundedCache;
use crate::component::args::decode_checked;
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::metrics::{Counter, Gauge};
use crate::relabel_rules::{read_rules, RulesHandle};

const NAME: &str = "loki.relabel";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["receiver", "rules"], build);

#[derive(Default)]
pub struct Args {
    pub forward_to: Vec<LogsReceiver>,
    pub rules: Vec<Rule>,
    pub max_cache_size: i64,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        Args { forward_to: r.get("forward_to"), rules: read_rules(r, "rule"), max_cache_size: r.get("max_cache_size") }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        // Upstream builds its LRU cache with this size, which refuses anything below 1.
        r.check(self.max_cache_size > 0, &["max_cache_size"], "must provide a positive size");
    }
}

struct Metrics {
    processed: Counter,
    written: Counter,
    hits: Counter,
    misses: Counter,
    size: Gauge,
}

struct State {
    rules: Arc<Vec<Rule>>,
    max: usize,
    cache: BoundedCache<Labels, Option<Labels>>,
}

impl State {
    fn relabel(&mut self, labels: &Labels, m: &Metrics) -> Option<Labels> {
        if let Some(hit) = self.cache.get(labels) {
            m.hits.inc();
            return hit.clone();
        }
        m.misses.inc();
        let out = process_labels(&self.rules, labels, NameValidation::Legacy).filter(|l| !l.is_empty());
        self.cache.insert(labels.clone(), out.clone(), self.max);
        out
    }
}

pub struct LokiRelabel {
    ctx: Context,
    inbox: Inbox,
    fanout: Fanout,
    state: Mutex<State>,
    metrics: Metrics,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let c = relabeller(ctx, args);
    let rules = c.state.lock().unwrap_or_else(|e| e.into_inner()).rules.clone();
    c.publish(rules);
    Ok(c)
}

fn relabeller(ctx: Context, args: Args) -> Arc<LokiRelabel> {
    let m = |n: &str, h: &str| ctx.counter_exact(n, h, &[]);
    let metrics = Metrics {
        processed: m("loki_relabel_entries_processed", "Total number of log entries processed"),
        written: m("loki_relabel_entries_written", "Total number of log entries forwarded"),
        hits: m("loki_relabel_cache_hits", "Total number of cache hits"),
        misses: m("loki_relabel_cache_misses", "Total number of cache misses"),
        size: ctx.gauge("loki_relabel_cache_size", "Total size of relabel cache", &[]),
    };
    Arc::new(LokiRelabel {
        inbox: Inbox::new(ctx.id()),
        fanout: Fanout::new(args.forward_to).tapped(&ctx),
        state: Mutex::new(State { rules: Arc::new(args.rules), max: args.max_cache_size.max(1) as usize, cache: BoundedCache::default() }),
        metrics,
        ctx,
    })
}

impl LokiRelabel {
    fn publish(&self, rules: Arc<Vec<Rule>>) {
        let mut exports = Object::new();
        exports.insert("receiver", self.inbox.receiver().to_value());
        exports.insert("rules", RulesHandle(rules).to_value());
        self.ctx.set_exports(Value::object(exports));
    }

    /// The entries that keep some labels, relabelled.
    fn relabel(&self, entries: Entries) -> Entries {
        let m = &self.metrics;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let out: Entries = entries
            .into_iter()
            .filter_map(|mut e| {
                m.processed.inc();
                e.labels = st.relabel(&e.labels, m)?;
                Some(e)
            })
            .collect();
        m.size.set(st.cache.len() as f64);
        m.written.add(out.len() as u64);
        out
    }
}

impl Component for LokiRelabel {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.fanout.set(args.forward_to);
        let rules = Arc::new(args.rules);
        {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if *st.rules != *rules {
                st.cache = BoundedCache::default();
            }
            st.rules = rules.clone();
            st.max = args.max_cache_size.max(1) as usize;
        }
        self.publish(rules);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            self.inbox.serve_and_forward(shutdown, self.ctx.id(), &self.fanout, |entries| self.relabel(entries)).await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use loki::Entry;

    use super::*;
    use crate::component::args::evaluated;
    use crate::loki::receiver::channel;

    fn component(rules: &str) -> (Arc<LokiRelabel>, tokio::sync::mpsc::Receiver<Entries>) {
        let v = evaluated(&format!("loki.relabel \"r\" {{\n  forward_to = []\n{rules}\n}}\n")).expect("evaluates");
        let mut args: Args = decode_checked(NAME, &v).expect("valid");
        let (out, rx) = channel("test.out", 8);
        args.forward_to = vec![out];
        (relabeller(crate::component::detached_context("loki.relabel.r"), args), rx)
    }

    fn entry(labels: &[(&str, &str)], line: &str) -> Entry {
        let mut e = Entry::new(Labels::new(labels.iter().copied()), 7, line);
        e.set_metadata("trace_id", "t");
        e
    }

    #[tokio::test]
    async fn relabels_labels_only_and_drops_entries_left_without_labels() {
        let (c, mut rx) = component("  rule {\n    action = \"labeldrop\"\n    regex = \"tmp\"\n  }\n  rule {\n    source_labels = [\"level\"]\n    regex = \"debug\"\n    action = \"drop\"\n  }");
        let out = c.relabel(vec![
            entry(&[("job", "a"), ("tmp", "x")], "kept"),
            entry(&[("job", "a"), ("level", "debug")], "dropped by rule"),
            entry(&[("tmp", "only")], "dropped: no labels left"),
        ]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].labels, Labels::new([("job", "a")]));
        assert_eq!((out[0].line.as_str(), out[0].timestamp_ns, out[0].metadata("trace_id")), ("kept", 7, Some("t")));
        c.fanout.send(out).await.expect("sent");
        assert_eq!(rx.recv().await.map(|b| b.len()), Some(1));
        assert_eq!((c.metrics.processed.get(), c.metrics.written.get()), (3, 1));
    }

    #[test]
    fn results_are_cached_per_label_set() {
        let (c, _rx) = component("  rule {\n    target_label = \"env\"\n    replacement = \"prod\"\n  }");
        c.relabel(vec![entry(&[("job", "a")], "1"), entry(&[("job", "a")], "2"), entry(&[("job", "b")], "3")]);
        assert_eq!((c.metrics.misses.get(), c.metrics.hits.get()), (2, 1));
    }

    #[test]
    fn the_cache_size_must_be_positive() {
        let v = evaluated("loki.relabel \"r\" {\n  forward_to = []\n  max_cache_size = 0\n}\n").expect("evaluates");
        let errs: Vec<String> = crate::component::args::check::<Args>(NAME, &v).into_iter().map(|e| e.message).collect();
        assert_eq!(errs, ["must provide a positive size"]);
    }
}
