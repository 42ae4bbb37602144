//! `prometheus.exporter.*`: exporters that run inside this process. Each exports one target
//! whose `__address__` is the in-memory address; `prometheus.scrape` answers such targets by
//! calling the handler registered here for the target's metrics path, without a socket.

pub mod blackbox;
pub mod self_exporter;
pub mod unix;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use eval::Value;

use super::scrape::fetch::IN_MEMORY_ADDRESS;
use crate::component::Context;

/// Renders an exporter's metrics for a scrape's query parameters (`target`, `module` for a
/// prober): `(content type, body)`.
pub type Handler = Arc<dyn Fn(&[(String, String)]) -> (String, Vec<u8>) + Send + Sync>;

static HANDLERS: LazyLock<RwLock<HashMap<String, Handler>>> = LazyLock::new(RwLock::default);

/// The metrics path of a component: `/api/v0/component/<id>/metrics`.
pub fn metrics_path(component_id: &str) -> String {
    format!("/api/v0/component/{component_id}/metrics")
}

/// Serves `handler` at the component's metrics path until the guard is dropped.
pub fn register(component_id: &str, handler: Handler) -> Registered {
    let path = metrics_path(component_id);
    HANDLERS.write().unwrap_or_else(|e| e.into_inner()).insert(path.clone(), handler);
    Registered(path)
}

pub fn lookup(path: &str) -> Option<Handler> {
    HANDLERS.read().unwrap_or_else(|e| e.into_inner()).get(path).cloned()
}

pub struct Registered(String);

impl Drop for Registered {
    fn drop(&mut self) {
        HANDLERS.write().unwrap_or_else(|e| e.into_inner()).remove(&self.0);
    }
}

/// The exporter's one target (upstream's general exporter rule): `job = integrations/<name>`,
/// `instance` the given key (`unknown` when empty), and the component's name and ID as
/// `__meta_component_*` labels.
pub fn target(ctx: &Context, name: &str, instance: &str) -> Value {
    let id = ctx.id();
    let component_name = id.rsplit('/').next().unwrap_or(id);
    let component_name = component_name.rsplit_once('.').map_or(component_name, |(n, _)| n);
    let instance = if instance.is_empty() { "unknown" } else { instance };
    let pairs = [
        ("__address__", IN_MEMORY_ADDRESS.to_string()),
        ("__scheme__", "http".to_string()),
        ("__metrics_path__", metrics_path(id)),
        ("job", format!("integrations/{name}")),
        ("instance", instance.to_string()),
        ("__meta_component_name", component_name.to_string()),
        ("__meta_component_id", id.to_string()),
    ];
    let obj: eval::Object = pairs.into_iter().map(|(k, v)| (k.into(), Value::String(v.into()))).collect();
    Value::Array(Arc::from(vec![Value::Object(Arc::new(obj))]))
}

/// `HOSTNAME` from the environment, else the OS host name (the `self` and `unix` rule).
pub fn host_instance() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|s| s.trim().to_string()))
        .unwrap_or_default()
}
