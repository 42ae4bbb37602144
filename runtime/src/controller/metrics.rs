//! The controller's self-metrics: evaluation state, components by health, and
//! the configuration load status.

use std::sync::{Arc, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::component::HealthState;
use crate::metrics::{Counter, Gauge, Histogram, Kind, Registry, Snapshot};

use super::graph;
use super::Shared;

const EVAL_BUCKETS: &[f64] = &[0.005, 0.025, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0];

pub(crate) struct ControllerMetrics {
    pub evaluating: Gauge,
    pub queue_size: Gauge,
    pub evaluation_seconds: Histogram,
    pub dependencies_wait_seconds: Histogram,
    last_load_successful: Gauge,
    last_success_timestamp: Gauge,
    load_failures: Counter,
    registry: Arc<Registry>,
}

fn controller_labels() -> Vec<(String, String)> {
    vec![("controller_id".into(), String::new()), ("controller_path".into(), "/".into())]
}

impl ControllerMetrics {
    pub fn new(registry: &Arc<Registry>) -> Self {
        let l = controller_labels();
        ControllerMetrics {
            evaluating: registry.gauge(
                "alloy_component_controller_evaluating",
                "Tracks if the controller is currently in the middle of a graph evaluation",
                &l,
            ),
            queue_size: registry.gauge(
                "alloy_component_evaluation_queue_size",
                "Tracks the number of components waiting to be evaluated in the worker pool",
                &l,
            ),
            evaluation_seconds: registry.histogram("alloy_component_evaluation_seconds", "Time spent performing component evaluation", &l, EVAL_BUCKETS),
            dependencies_wait_seconds: registry.histogram(
                "alloy_component_dependencies_wait_seconds",
                "Time spent by components waiting to be evaluated after their dependency is updated.",
                &l,
                EVAL_BUCKETS,
            ),
            last_load_successful: registry.gauge("alloy_config_last_load_successful", "Config loaded successfully.", &[]),
            last_success_timestamp: registry.gauge(
                "alloy_config_last_load_success_timestamp_seconds",
                "Timestamp of the last successful configuration load.",
                &[],
            ),
            load_failures: registry.counter("alloy_config_load_failures_total", "Configuration load failures.", &[]),
            registry: registry.clone(),
        }
    }

    pub fn load_failed(&self) {
        self.last_load_successful.set(0.0);
        self.load_failures.inc();
    }

    pub fn load_succeeded(&self, hash: &str) {
        self.last_load_successful.set(1.0);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        self.last_success_timestamp.set(now);
        // One series: the hash of the configuration in force.
        self.registry.remove_family("alloy_config_hash");
        self.registry
            .gauge(
                "alloy_config_hash",
                "Hash of the currently active config file.",
                &[("cluster_name".into(), String::new()), ("sha256".into(), hash.to_string())],
            )
            .set(1.0);
    }
}

/// `alloy_component_controller_running_components{health_type}`, counted at scrape time.
pub(crate) fn register_health_collector(shared: &Arc<Shared>) {
    let weak: Weak<Shared> = Arc::downgrade(shared);
    shared.registry.register_collector(move || {
        let Some(shared) = weak.upgrade() else { return Vec::new() };
        let mut counts = [0usize; 4];
        {
            let st = shared.lock();
            for n in st.nodes.iter().filter(|n| n.spec.kind == graph::Kind::Component) {
                counts[n.shared.health().state.severity() as usize] += 1;
            }
        }
        let mut snap = Snapshot::new("alloy_component_controller_running_components", "Total number of running components.", Kind::Gauge);
        for state in [HealthState::Healthy, HealthState::Unknown, HealthState::Unhealthy, HealthState::Exited] {
            snap = snap.sample(&[("controller_id", ""), ("controller_path", "/"), ("health_type", state.as_str())], counts[state.severity() as usize] as f64);
        }
        vec![snap]
    });
}

/// sha256 of all source files in sorted-name order (`alloy_config_hash`).
pub(crate) fn config_hash(files: &[(String, String)]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    for (_, text) in sorted {
        h.update(text.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
