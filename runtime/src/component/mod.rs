//! The component API: what a builtin component implements and what the controller hands it.
//!
//! A component is built from its (checked, defaulted) arguments by its [`Registration`],
//! receives new arguments through [`Component::update`] only when they changed, and runs as
//! one tokio task until its shutdown token is cancelled. It talks back to the controller
//! through its [`Context`]: exports, health and self-metrics.
//!
//! Arguments are an [`eval::Value::Object`]: attributes by name; a block that may appear once
//! is an object under its name, a repeatable block an array of objects in source order; every
//! attribute the catalogue gives a default is present. Components read them into their typed
//! [`Arguments`] (`args.rs`), which give absent optional blocks their catalogue defaults.

pub mod args;
pub mod registry;
pub mod services;

pub use args::{Arguments, Reader};
pub use registry::{ApplyFn, BuildFn, Registration, Registrations};
pub use services::Services;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use tokio_util::sync::CancellationToken;

use crate::livedebugging::{Hub, Tap};
use crate::metrics::{Counter, Gauge, Registry};

pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

/// Why a component could not be built, updated or run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ComponentError(pub String);

impl ComponentError {
    pub fn new(message: impl Into<String>) -> Self {
        ComponentError(message.into())
    }
}

impl From<eval::ValueError> for ComponentError {
    fn from(e: eval::ValueError) -> Self {
        ComponentError(e.plain_text())
    }
}

impl From<std::io::Error> for ComponentError {
    fn from(e: std::io::Error) -> Self {
        ComponentError(e.to_string())
    }
}

impl From<String> for ComponentError {
    fn from(e: String) -> Self {
        ComponentError(e)
    }
}

impl From<&str> for ComponentError {
    fn from(e: &str) -> Self {
        ComponentError(e.to_string())
    }
}

/// Health as upstream reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HealthState {
    Unknown,
    Healthy,
    Unhealthy,
    Exited,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Unknown => "unknown",
            HealthState::Healthy => "healthy",
            HealthState::Unhealthy => "unhealthy",
            HealthState::Exited => "exited",
        }
    }

    /// How bad a state is when several sources are merged: exited > unhealthy > unknown >
    /// healthy.
    pub(crate) fn severity(self) -> u8 {
        match self {
            HealthState::Healthy => 0,
            HealthState::Unknown => 1,
            HealthState::Unhealthy => 2,
            HealthState::Exited => 3,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    pub state: HealthState,
    pub message: String,
    pub updated: SystemTime,
}

impl Health {
    pub fn new(state: HealthState, message: impl Into<String>) -> Self {
        Health { state, message: message.into(), updated: SystemTime::now() }
    }
}

/// Where a component's exports and own health go: the controller's graph node, or a
/// [`detached_context`]'s recorder. The component API depends on this trait only, so it
/// knows nothing of the controller.
pub trait Host: Send + Sync + 'static {
    /// New exports; the host tells dependants only when they differ from the last ones.
    fn set_exports(&self, exports: eval::Value);
    /// The component's own health, merged by the host with its other sources.
    fn set_health(&self, health: Health);
    /// The component publishes to live debugging (the API's `liveDebuggingEnabled`).
    fn set_live_debugging(&self) {}
}

/// What the controller gives a component. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub(crate) inner: Arc<ContextInner>,
}

pub(crate) struct ContextInner {
    /// The global ID (`MODULE/LOCAL` inside a module).
    pub id: String,
    /// The ID inside its module, for the `component_id` label.
    pub local_id: String,
    /// `/` for the root, `/MODULE` inside a module.
    pub component_path: String,
    pub data_path: PathBuf,
    pub registry: Arc<Registry>,
    pub host: Arc<dyn Host>,
    /// The controller's live-debugging hub.
    pub live: Arc<Hub>,
}

impl Context {
    /// The component's global ID, e.g. `otelcol.receiver.otlp.default`, or
    /// `my_pipeline.a/otelcol.receiver.otlp.default` inside a custom component.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// `<storage.path>/<global id>`; created on first call.
    pub fn data_path(&self) -> &Path {
        // A directory that cannot be created shows up as an error where the component uses it.
        let _ = std::fs::create_dir_all(&self.inner.data_path);
        &self.inner.data_path
    }

    /// Publishes new exports (an object value). Dependants are re-evaluated only when the
    /// value changed. Call it inside `build` for exports dependants need at load time.
    pub fn set_exports(&self, exports: eval::Value) {
        self.inner.host.set_exports(exports);
    }

    /// The component's own health, merged with the controller's view of the node.
    pub fn set_health(&self, state: HealthState, message: impl Into<String>) {
        self.inner.host.set_health(Health::new(state, message));
    }

    /// The controller's live-debugging hub.
    pub fn live_debugging(&self) -> &Arc<Hub> {
        &self.inner.live
    }

    /// What the component publishes to live debugging through; taking it marks the component
    /// as supporting live debugging.
    pub fn tap(&self) -> Tap {
        self.inner.host.set_live_debugging();
        Tap::new(&self.inner.id, self.inner.live.clone())
    }

    /// The process registry (what `/metrics` serves).
    pub fn registry(&self) -> Arc<Registry> {
        self.inner.registry.clone()
    }

    /// A counter in the process registry, labelled `component_id=<local id>`,
    /// `component_path="/"` (or `"/MODULE"`).
    /// Exposed with a `_total` suffix when the name lacks one (Prometheus convention).
    pub fn counter(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Counter {
        self.inner.registry.counter(name, help, &self.labels(labels))
    }

    /// A counter under exactly `name`, labelled like [`Context::counter`].
    pub fn counter_exact(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Counter {
        self.inner.registry.counter_exact(name, help, &self.labels(labels))
    }

    /// A gauge in the process registry, labelled like [`Context::counter`].
    pub fn gauge(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> Gauge {
        self.inner.registry.gauge(name, help, &self.labels(labels))
    }

    /// A histogram with `bounds`, labelled like [`Context::counter`].
    pub fn histogram(&self, name: &str, help: &str, labels: &[(&str, &str)], bounds: &[f64]) -> crate::metrics::Histogram {
        self.inner.registry.histogram(name, help, &self.labels(labels), bounds)
    }

    /// A summary (count and sum, no quantiles), labelled like [`Context::counter`].
    pub fn summary(&self, name: &str, help: &str, labels: &[(&str, &str)]) -> crate::metrics::Summary {
        self.inner.registry.summary(name, help, &self.labels(labels))
    }

    pub(crate) fn labels(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut out = vec![("component_id".to_string(), self.inner.local_id.clone()), ("component_path".to_string(), self.inner.component_path.clone())];
        out.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        out
    }
}

/// A log line from a component through the process logger.
pub fn log(component_id: &str, level: tracing::Level, msg: &str) {
    match level {
        tracing::Level::ERROR => tracing::error!(component_id, "{msg}"),
        tracing::Level::WARN => tracing::warn!(component_id, "{msg}"),
        tracing::Level::INFO => tracing::info!(component_id, "{msg}"),
        _ => tracing::debug!(component_id, "{msg}"),
    }
}

pub trait Component: Send + Sync + 'static {
    /// New arguments; called only when they differ from the previous ones.
    fn update(&self, args: eval::Value) -> Result<(), ComponentError>;

    /// Runs until `shutdown` is cancelled, then flushes within a bounded time and returns.
    /// By default a component has no work of its own (it acts when called) and just waits.
    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            shutdown.cancelled().await;
            Ok(())
        })
    }

    /// Extra state for `/api/v0/web/components/{id}` (`debugInfo`).
    fn debug_info(&self) -> Option<eval::Value> {
        None
    }
}

/// A host outside a controller: keeps the last exports and the healths reported, tells nobody.
#[derive(Default)]
pub(crate) struct Recorder {
    exports: std::sync::Mutex<eval::Value>,
    healths: std::sync::Mutex<Vec<Health>>,
}

impl Recorder {
    /// Every health the component reported, oldest first.
    #[cfg(test)]
    pub(crate) fn healths(&self) -> Vec<Health> {
        self.healths.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Host for Recorder {
    fn set_exports(&self, exports: eval::Value) {
        *self.exports.lock().unwrap_or_else(|e| e.into_inner()) = exports;
    }

    fn set_health(&self, health: Health) {
        let mut healths = self.healths.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: benchmarks run detached components for long.
        if healths.len() < 1000 {
            healths.push(health);
        }
    }
}

/// A component context outside a controller (unit tests, benchmarks): metrics go to a
/// private registry and exports are kept but notify nobody.
pub fn detached_context(id: &str) -> Context {
    recording_context(id).0
}

/// [`detached_context`], with the host that records what the component reports.
pub(crate) fn recording_context(id: &str) -> (Context, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let ctx = Context {
        inner: Arc::new(ContextInner {
            id: id.to_string(),
            local_id: id.to_string(),
            component_path: "/".to_string(),
            data_path: std::env::temp_dir().join(id),
            registry: Registry::new(),
            host: recorder.clone(),
            live: Hub::new(),
        }),
    };
    (ctx, recorder)
}
