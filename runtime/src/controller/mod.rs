//! The controller: loads a configuration into a graph of nodes, evaluates them in dependency
//! order, builds and runs components, re-evaluates dependants when exports change, and
//! applies reloads the way upstream does.
//!
//! Load policy:
//! * analysis or lowering errors (parse errors, unknown or unsupported components, bad
//!   references, cycles) reject the configuration; the running graph is untouched;
//! * evaluation errors abort the first load (nothing starts); on a reload the new graph is
//!   installed anyway, failing nodes keep their last good arguments and turn unhealthy, and
//!   the reload still reports the error;
//! * nodes whose ID is unchanged keep running and get `update` only when their arguments
//!   changed; removed nodes stop (dependants first), added nodes start (dependencies first).

mod evaluate;
mod foreach;
pub mod graph;
pub mod imports;
mod info;
mod metrics;
mod module;
pub mod node;
mod tasks;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use analyzer::{Analysis, FileReport, Stability};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio_util::sync::CancellationToken;

use crate::component::{Component, Registrations};
use crate::metrics::Registry;
use graph::NodeSpec;
use node::NodeShared;

pub use info::ComponentInfo;

/// What the command line configures.
#[derive(Clone, Debug)]
pub struct Options {
    pub stability: Stability,
    pub community: bool,
    /// `--storage.path`: components' data directories live below it.
    pub storage_path: PathBuf,
    /// How long shutdown and reloads wait for a stopping component.
    pub shutdown_deadline: Duration,
    /// Where components come from when the configuration was generated (`alloy otel`: the
    /// collector component, `receiver/otlp/in`), by local ID; shown by the API and UI.
    pub origins: Origins,
}

/// Local component ID → what the user wrote it as; the loader updates it on every load.
pub type Origins = Arc<std::sync::RwLock<std::collections::HashMap<String, String>>>;

impl Default for Options {
    fn default() -> Self {
        Options {
            stability: Stability::GenerallyAvailable,
            community: false,
            storage_path: PathBuf::from("data-alloy"),
            shutdown_deadline: Duration::from_secs(600),
            origins: Origins::default(),
        }
    }
}

/// Reads the configuration's files (path, text) for a load or a reload.
pub type SourceFn = Arc<dyn Fn() -> Result<Vec<(String, String)>, String> + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Read(String),
    /// The configuration was rejected before anything changed.
    #[error("{}", render_reports(.0))]
    Rejected(Vec<FileReport>),
    /// Some nodes failed to evaluate (on a reload the new graph is installed regardless).
    #[error("{}", render_reports(.0))]
    Evaluation(Vec<FileReport>),
}

impl LoadError {
    /// The files with diagnostics, for rendering with source snippets.
    pub fn reports(&self) -> &[FileReport] {
        match self {
            LoadError::Read(_) => &[],
            LoadError::Rejected(r) | LoadError::Evaluation(r) => r,
        }
    }
}

fn render_reports(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for r in reports {
        out.push_str(&syntax::diagnostics::render_short(&r.path, &r.lines, &r.diagnostics));
    }
    out.trim_end().to_string()
}

/// A node of the running graph.
pub(crate) struct Node {
    pub spec: NodeSpec,
    pub shared: Arc<NodeShared>,
    pub component: Option<Arc<dyn Component>>,
    /// The last arguments the component accepted.
    pub args: Option<eval::Value>,
    /// When the node was last evaluated: a change older than that is already in its arguments.
    pub evaluated_at: Option<std::time::Instant>,
}

#[derive(Default)]
pub(crate) struct State {
    /// Dependencies before dependants.
    pub nodes: Vec<Node>,
    pub index: HashMap<String, usize>,
    pub deps: HashMap<String, Vec<String>>,
    pub dependants: HashMap<String, Vec<String>>,
    pub tasks: HashMap<String, tasks::Task>,
    /// What `import.file` blocks read at the last load; a change reloads.
    pub watched: Arc<Vec<imports::Watched>>,
    /// The items of each `foreach` (by node ID) as last evaluated; lowering expands them.
    pub foreach: HashMap<String, foreach::Items>,
    /// The files of the running configuration.
    pub files: Option<Vec<(String, String)>>,
    /// What fetching remote modules (`import.http`, `import.git`) returned; the ones the graph
    /// uses, with when each was last fetched.
    pub fetched: imports::Fetched,
    pub remote_used: HashMap<imports::Remote, std::time::Instant>,
}

pub(crate) struct Shared {
    pub options: Options,
    pub registrations: Arc<Registrations>,
    pub registry: Arc<Registry>,
    source: SourceFn,
    pub state: Mutex<State>,
    pub changed_tx: UnboundedSender<node::Change>,
    ready: AtomicBool,
    /// Set when an evaluation changed a `foreach` collection: the graph must be lowered again.
    pub foreach_changed: AtomicBool,
    /// The `http` block's settings, read by the server per connection and request.
    /// What config blocks applied (`runtime/src/services`).
    pub services: crate::component::Services,
    /// Stops the re-evaluation loop.
    stop_loop: CancellationToken,
    /// One load at a time.
    load_lock: tokio::sync::Mutex<()>,
    pub metrics: metrics::ControllerMetrics,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The root controller. Cheap to clone; must be created inside a tokio runtime.
#[derive(Clone)]
pub struct Controller {
    shared: Arc<Shared>,
}

impl Controller {
    pub fn new(options: Options, registrations: Arc<Registrations>, registry: Arc<Registry>, source: SourceFn) -> Controller {
        let (changed_tx, changed_rx) = unbounded_channel();
        let metrics = metrics::ControllerMetrics::new(&registry);
        let shared = Arc::new(Shared {
            options,
            registrations,
            registry,
            source,
            state: Mutex::new(State::default()),
            changed_tx,
            ready: AtomicBool::new(false),
            foreach_changed: AtomicBool::new(false),
            services: Default::default(),
            stop_loop: CancellationToken::new(),
            load_lock: tokio::sync::Mutex::new(()),
            metrics,
        });
        // One hub for the controller's lifetime: streams outlive reloads.
        shared.services.set(crate::livedebugging::Hub::default());
        metrics::register_health_collector(&shared);
        tokio::spawn(reevaluate_loop(shared.clone(), changed_rx));
        tokio::spawn(watch_imports(Arc::downgrade(&shared)));
        Controller { shared }
    }

    /// True once a load succeeded (never goes back).
    pub fn is_ready(&self) -> bool {
        self.shared.ready.load(Ordering::Acquire)
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.shared.registry
    }

    /// Reads the configuration and applies it (the first load, `/-/reload`, SIGHUP).
    pub async fn load(&self) -> Result<(), LoadError> {
        let _one_at_a_time = self.shared.load_lock.lock().await;
        let files = match (self.shared.source)() {
            Ok(f) => f,
            Err(e) => {
                self.shared.metrics.load_failed();
                return Err(LoadError::Read(e));
            }
        };
        self.apply(files, true).await
    }

    /// Applies the last loaded files again because a `foreach` collection changed, so that
    /// the graph gains or loses the children (edits on disk wait for a real reload).
    async fn relower(&self) {
        let _one_at_a_time = self.shared.load_lock.lock().await;
        let Some(files) = self.shared.lock().files.clone() else { return };
        if let Err(e) = self.apply(files, false).await {
            tracing::error!(err = %e, "failed to apply a changed foreach collection");
        }
    }

    /// Checks, lowers, installs and evaluates `files`; `config_load` is false when the files
    /// are the running ones applied again (no load metrics then). Lowering repeats while
    /// evaluation changes a `foreach` collection, since children are nodes of the graph.
    async fn apply(&self, files: Vec<(String, String)>, config_load: bool) -> Result<(), LoadError> {
        let first = !self.is_ready();
        let hash = metrics::config_hash(&files);
        let module_path = files.first().map(|(p, _)| module_path_of(p)).unwrap_or_default();
        let options = analyzer::Options { stability: self.shared.options.stability, community: self.shared.options.community };
        let mut analysis = Analysis::with_rules(options, self.shared.registrations.clone());
        analysis.set_files(files.clone());
        let reports: Vec<FileReport> = analysis.diagnostics().into_iter().filter(|r| !r.diagnostics.is_empty()).collect();
        if reports.iter().any(FileReport::has_errors) {
            if config_load {
                self.shared.metrics.load_failed();
            }
            return Err(LoadError::Rejected(reports));
        }
        if config_load {
            for r in &reports {
                for d in &r.diagnostics {
                    tracing::warn!(file = %r.path, "{}", syntax::diagnostics::render_short(&r.path, &r.lines, std::slice::from_ref(d)).trim_end());
                }
            }
        }
        self.shared.metrics.evaluating.set(1.0);
        let mut removed = Vec::new();
        let mut failures = Vec::new();
        if config_load {
            // A load tries failed fetches again; modules that were fetched stay until polled.
            self.shared.lock().fetched.retain(|_, r| r.is_ok());
        }
        let mut installed = false;
        for _ in 0..MAX_LOWERING_ROUNDS {
            let (foreach, fetched) = {
                let st = self.shared.lock();
                (st.foreach.clone(), st.fetched.clone())
            };
            let mut lowered = match graph::lower(&analysis, &self.shared.registrations, &module_path, &foreach, &fetched, &self.shared.options.storage_path) {
                Ok(l) => l,
                Err(reports) if !installed => {
                    self.shared.metrics.evaluating.set(0.0);
                    if config_load {
                        self.shared.metrics.load_failed();
                    }
                    return Err(LoadError::Rejected(reports));
                }
                Err(reports) => {
                    failures = reports;
                    break;
                }
            };
            if !lowered.to_fetch.is_empty() {
                for request in lowered.to_fetch {
                    let result = request.fetch().await;
                    let mut st = self.shared.lock();
                    st.fetched.insert(request.clone(), result);
                    st.remote_used.insert(request, std::time::Instant::now());
                }
                continue;
            }
            if !installed && config_load {
                self.shared.metrics.load_succeeded(&hash);
            }
            installed = true;
            let mut st = self.shared.lock();
            st.watched = Arc::new(std::mem::take(&mut lowered.watched));
            let used: HashMap<imports::Remote, std::time::Instant> =
                lowered.remote_used.iter().map(|r| (r.clone(), st.remote_used.get(r).copied().unwrap_or_else(std::time::Instant::now))).collect();
            st.fetched.retain(|r, _| used.contains_key(r));
            st.remote_used = used;
            removed.extend(evaluate::install(&self.shared, &mut st, lowered));
            failures = evaluate::evaluate_all(&self.shared, &mut st);
            if !self.shared.foreach_changed.swap(false, Ordering::AcqRel) {
                break;
            }
        }
        if !installed {
            self.shared.metrics.evaluating.set(0.0);
            return Err(LoadError::Read("imports did not settle: modules kept asking for more modules to fetch".into()));
        }
        let failed_first = first && !failures.is_empty();
        {
            let mut st = self.shared.lock();
            if failed_first {
                // Nothing starts after a failed first load.
                *st = State::default();
            } else {
                st.files = Some(files);
            }
        }
        self.shared.metrics.evaluating.set(0.0);
        if failed_first {
            return Err(LoadError::Evaluation(failures));
        }
        tasks::stop(removed, self.shared.options.shutdown_deadline).await;
        tasks::start_all(&self.shared);
        self.shared.ready.store(true, Ordering::Release);
        if failures.is_empty() {
            Ok(())
        } else {
            Err(LoadError::Evaluation(failures))
        }
    }

    /// Stops every component (dependants first) within the shutdown deadline.
    pub async fn shutdown(&self) {
        let _no_load = self.shared.load_lock.lock().await;
        self.shared.stop_loop.cancel();
        self.live_debugging().stop();
        let all = {
            let mut st = self.shared.lock();
            let order: Vec<String> = st.nodes.iter().map(|n| n.spec.id.clone()).collect();
            order.into_iter().rev().filter_map(|id| st.tasks.remove(&id).map(|t| (id, t))).collect::<Vec<_>>()
        };
        tasks::stop(all, self.shared.options.shutdown_deadline).await;
    }

    /// Root components in graph order, without arguments/exports.
    pub fn components(&self) -> Vec<ComponentInfo> {
        info::list(&self.shared)
    }

    /// The components of a custom component's module (`/api/v0/web/modules/{id}/components`);
    /// None when no instance has that ID.
    pub fn module_components(&self, module_id: &str) -> Option<Vec<ComponentInfo>> {
        info::module_list(&self.shared, module_id)
    }

    /// The `http` block's current settings.
    /// What the configuration's config blocks applied (the `http` block's settings, …).
    pub fn services(&self) -> &crate::component::Services {
        &self.shared.services
    }

    /// The child modules of a `foreach` (`foreach.L/foreach_x_1`, …), in graph order.
    pub fn child_modules(&self, id: &str) -> Vec<String> {
        info::child_modules(&self.shared, id)
    }

    /// The live-debugging hub every component of this controller (modules included)
    /// publishes to.
    pub fn live_debugging(&self) -> std::sync::Arc<crate::livedebugging::Hub> {
        self.shared.services.get::<crate::livedebugging::Hub>()
    }

    /// One component with arguments, exports and debug info.
    pub fn component(&self, id: &str) -> Option<ComponentInfo> {
        info::detail(&self.shared, id)
    }
}

/// `module_path`: the directory of the configuration file, or the directory itself.
fn module_path_of(first_file: &str) -> String {
    imports::parent_dir(std::path::Path::new(first_file))
}

/// How many times one load may lower the graph again: after fetching HTTP modules (one round
/// per level of nested imports) or because `foreach` collections changed (one round per level
/// of nested `foreach`).
const MAX_LOWERING_ROUNDS: usize = 16;

/// How often imported files are compared with what the last load read.
const IMPORT_POLL: Duration = Duration::from_secs(1);

/// Reloads when a file or directory an `import.file` read has changed (upstream watches with
/// fsnotify; a one-second poll is as prompt for people editing modules; with
/// `detector = "poll"` every `poll_frequency`), and fetches each
/// remote module again every `poll_frequency` (`pull_frequency` for git), lowering the running
/// files again when its text changed. A failed reload keeps the running pipeline, as any reload does; a failed fetch
/// keeps the last text.
async fn watch_imports(shared: std::sync::Weak<Shared>) {
    // When each polled path was last compared.
    let mut looked: HashMap<PathBuf, std::time::Instant> = HashMap::new();
    loop {
        tokio::time::sleep(IMPORT_POLL).await;
        let Some(shared) = shared.upgrade() else { return };
        if shared.stop_loop.is_cancelled() {
            return;
        }
        let (watched, due) = {
            let st = shared.lock();
            let due: Vec<imports::Remote> =
                st.remote_used.iter().filter(|(r, at)| r.poll().is_some_and(|p| at.elapsed() >= p)).map(|(r, _)| r.clone()).collect();
            (st.watched.clone(), due)
        };
        let now = std::time::Instant::now();
        let mut any_changed = false;
        for w in watched.iter() {
            if let Some(every) = w.every {
                // A path seen for the first time was just read by the load.
                let at = looked.entry(w.path.clone()).or_insert(now);
                if now.duration_since(*at) < every {
                    continue;
                }
                *at = now;
            }
            any_changed |= w.changed();
        }
        if any_changed {
            tracing::info!("an imported module changed; reloading");
            if let Err(e) = (Controller { shared: shared.clone() }).load().await {
                tracing::error!(err = %e, "failed to reload config after an imported module changed");
                // Wait for the next change instead of retrying the same content every second.
                if matches!(e, LoadError::Rejected(_) | LoadError::Read(_)) {
                    let mut st = shared.lock();
                    for w in Arc::make_mut(&mut st.watched).iter_mut() {
                        w.files = analyzer::load_path(&w.path).unwrap_or_default();
                    }
                }
            }
        }
        let mut changed = false;
        for request in due {
            let result = request.fetch().await;
            let mut st = shared.lock();
            st.remote_used.insert(request.clone(), std::time::Instant::now());
            match result {
                Ok(text) if st.fetched.get(&request).and_then(|r| r.as_ref().ok()) != Some(&text) => {
                    st.fetched.insert(request, Ok(text));
                    changed = true;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(module = %request.name(), err = %e, "failed to fetch an imported module; keeping the last one"),
            }
        }
        if changed {
            tracing::info!("an imported remote module changed; applying it");
            (Controller { shared: shared.clone() }).relower().await;
        }
    }
}

/// Re-evaluates the direct dependants of nodes whose exports changed, batch by batch.
async fn reevaluate_loop(shared: Arc<Shared>, mut rx: UnboundedReceiver<node::Change>) {
    loop {
        let first = tokio::select! {
            _ = shared.stop_loop.cancelled() => return,
            id = rx.recv() => match id { Some(id) => id, None => return },
        };
        let mut changed = vec![first];
        while let Ok(id) = rx.try_recv() {
            changed.push(id);
        }
        shared.metrics.queue_size.set(changed.len() as f64);
        shared.metrics.evaluating.set(1.0);
        evaluate::evaluate_dependants(&shared, &changed);
        if shared.foreach_changed.swap(false, Ordering::AcqRel) {
            let controller = Controller { shared: shared.clone() };
            tokio::spawn(async move { controller.relower().await });
        }
        shared.metrics.evaluating.set(0.0);
        shared.metrics.queue_size.set(0.0);
    }
}
