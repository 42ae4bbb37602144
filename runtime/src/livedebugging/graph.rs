//! A graph stream's end of the hub: counts per component and type in one module, summed over
//! a window and turned into rates.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde::Serialize;

use super::{module_of, DataType};

/// One edge's rate over a window, as upstream's UI reads it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rate {
    #[serde(rename = "componentID")]
    pub component_id: String,
    #[serde(rename = "targetComponentIDs")]
    pub target_component_ids: Vec<String>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Items per second.
    pub rate: f64,
}

#[derive(Default)]
struct Sum {
    count: u64,
    targets: BTreeSet<String>,
}

/// Listens to every component of one module.
pub struct GraphSink {
    module: String,
    sums: Mutex<BTreeMap<(String, DataType), Sum>>,
}

impl GraphSink {
    pub fn new(module: &str) -> Self {
        GraphSink { module: module.to_string(), sums: Mutex::default() }
    }

    pub(super) fn wants(&self, component_id: &str) -> bool {
        module_of(component_id) == self.module
    }

    pub(super) fn add(&self, component_id: &str, ty: DataType, count: u64, targets: &[&str]) {
        let mut sums = self.sums.lock().unwrap_or_else(|e| e.into_inner());
        let sum = sums.entry((component_id.to_string(), ty)).or_default();
        sum.count = sum.count.saturating_add(count);
        for t in targets {
            if !sum.targets.contains(*t) {
                sum.targets.insert(t.to_string());
            }
        }
    }

    /// The window's rates (counts divided by `window_secs`), and a fresh window. IDs are
    /// global (`MODULE/LOCAL` inside a module), as `/api/v0/web/components/{id}` takes them.
    pub fn take(&self, window_secs: u64) -> Vec<Rate> {
        let sums = std::mem::take(&mut *self.sums.lock().unwrap_or_else(|e| e.into_inner()));
        sums.into_iter()
            .map(|((id, ty), sum)| Rate {
                component_id: id,
                target_component_ids: sum.targets.into_iter().collect(),
                kind: ty.as_str(),
                rate: sum.count as f64 / window_secs.max(1) as f64,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_the_module_become_rates_per_component_and_type() {
        let g = GraphSink::new("m.a");
        assert!(g.wants("m.a/loki.echo.x"));
        assert!(!g.wants("loki.echo.x"));
        assert!(!g.wants("m.a/n.b/loki.echo.x"));
        g.add("m.a/loki.relabel.x", DataType::LokiLog, 6, &["m.a/loki.echo.y"]);
        g.add("m.a/loki.relabel.x", DataType::LokiLog, 4, &["m.a/loki.echo.z"]);
        let rates = g.take(5);
        assert_eq!(
            rates,
            [Rate {
                component_id: "m.a/loki.relabel.x".into(),
                target_component_ids: vec!["m.a/loki.echo.y".into(), "m.a/loki.echo.z".into()],
                kind: "loki_log",
                rate: 2.0
            }]
        );
        assert!(g.take(5).is_empty(), "a new window starts empty");
    }
}
