//! Test helpers: a recording component registered as `remote.http` (a catalogue name the
//! shipped registry does not implement), configurations written to temporary directories,
//! and a waiting helper.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use eval::{Object, Value};
use runtime::component::{BoxFuture, Component, ComponentError, Context, Registration};
use runtime::metrics::Registry;
use runtime::{Controller, Options, SourceFn};
use tokio_util::sync::CancellationToken;

/// What a test component saw, by component ID (IDs are unique per test).
#[derive(Default)]
pub struct Stats {
    pub builds: AtomicUsize,
    pub updates: AtomicUsize,
    pub runs: AtomicUsize,
    pub stopped: AtomicBool,
    pub last_url: Mutex<String>,
}

fn stats_table() -> &'static Mutex<HashMap<String, Arc<Stats>>> {
    static T: OnceLock<Mutex<HashMap<String, Arc<Stats>>>> = OnceLock::new();
    T.get_or_init(Default::default)
}

pub fn stats(id: &str) -> Arc<Stats> {
    stats_table().lock().unwrap().entry(id.to_string()).or_default().clone()
}

/// The echo reads only `url`; other settings left at their defaults are fine, set ones are
/// refused like any component's.
#[derive(Default)]
struct EchoArgs;

impl runtime::component::Arguments for EchoArgs {
    fn decode(r: &mut runtime::component::Reader<'_>) -> Self {
        // What a request would carry; the echo answers with the url alone.
        let _: (String, String, String) = (r.get("url"), r.get("method"), r.get("body"));
        EchoArgs
    }
}

/// `remote.http "x" { url = … }` exporting `content = url`; a url ending in `/fail` fails
/// build and update.
struct Echo {
    ctx: Context,
    stats: Arc<Stats>,
}

fn url_of(args: &Value) -> Result<String, ComponentError> {
    let mut d = eval::decode::StructDecoder::new(args)?;
    let url: String = d.required("url")?;
    if url.ends_with("/fail") {
        return Err(ComponentError::new("the url asks to fail"));
    }
    Ok(url)
}

impl Echo {
    fn publish(&self, url: &str) {
        *self.stats.last_url.lock().unwrap() = url.to_string();
        let mut o = Object::ordered();
        o.insert("content", Value::string(url));
        self.ctx.set_exports(Value::object(o));
    }
}

fn build_echo(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let url = url_of(&args)?;
    let stats = stats(ctx.id());
    stats.builds.fetch_add(1, Ordering::SeqCst);
    let c = Echo { ctx, stats };
    c.publish(&url);
    Ok(Arc::new(c))
}

impl Component for Echo {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let url = url_of(&args)?;
        self.stats.updates.fetch_add(1, Ordering::SeqCst);
        self.publish(&url);
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            self.stats.runs.fetch_add(1, Ordering::SeqCst);
            let c = self.ctx.counter("test_echo_runs", "Runs.", &[]);
            c.inc();
            shutdown.cancelled().await;
            self.stats.stopped.store(true, Ordering::SeqCst);
            Ok(())
        })
    }

    fn debug_info(&self) -> Option<Value> {
        let mut o = Object::ordered();
        o.insert("builds", Value::int(self.stats.builds.load(Ordering::SeqCst) as i64));
        Some(Value::object(o))
    }
}

pub fn registrations() -> Vec<Registration> {
    let mut r = runtime::components::registrations();
    r.push(Registration::component::<EchoArgs>("remote.http", &["content"], build_echo));
    r
}

/// A configuration directory whose `config.alloy` can be rewritten between loads.
pub struct Config {
    pub dir: tempfile::TempDir,
}

impl Config {
    pub fn new(text: &str) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let c = Config { dir };
        c.write(text);
        c
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("config.alloy")
    }

    pub fn write(&self, text: &str) {
        std::fs::write(self.path(), text.replace("$DIR", &self.dir.path().display().to_string())).unwrap();
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn controller(&self) -> Controller {
        controller_for(&self.path(), self.dir.path())
    }

    /// A controller that also accepts experimental blocks (`foreach`).
    pub fn experimental_controller(&self) -> Controller {
        controller_with(&self.path(), self.dir.path(), analyzer::Stability::Experimental)
    }
}

pub fn controller_for(path: &Path, data: &Path) -> Controller {
    controller_with(path, data, analyzer::Stability::GenerallyAvailable)
}

fn controller_with(path: &Path, data: &Path, stability: analyzer::Stability) -> Controller {
    let p = path.to_path_buf();
    let source: SourceFn = Arc::new(move || analyzer::load_path(&p).map_err(|e| e.to_string()));
    let options = Options { stability, storage_path: data.join("data"), shutdown_deadline: Duration::from_secs(5), ..Options::default() };
    Controller::new(options, std::sync::Arc::new(runtime::component::Registrations::new(registrations())), Registry::new(), source)
}

/// A load error's diagnostics as `FILE:LINE:COL: message`, the file by its last path element.
pub fn messages(e: &runtime::LoadError) -> Vec<String> {
    e.reports()
        .iter()
        .flat_map(|r| {
            r.diagnostics.iter().map(move |d| format!("{}:{}: {}", r.path.rsplit('/').next().unwrap_or(""), r.lines.line_col(d.span.start), d.message))
        })
        .collect()
}

/// Polls `cond` every 20 ms for up to 5 s.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..250 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The `content` export of a component, as text.
pub fn content(c: &Controller, id: &str) -> Option<String> {
    let exports = c.component(id)?.exports?;
    match exports.as_object()?.get("content")? {
        Value::String(s) => Some(s.to_string_lossy().into_owned()),
        Value::OptionalSecret(s) => Some(s.expose().to_string_lossy().into_owned()),
        _ => None,
    }
}

/// A private CA and a server certificate for 127.0.0.1 signed by it, PEM.
pub struct Pki {
    pub ca: String,
    pub cert: String,
    pub key: String,
}

impl Pki {
    /// Writes `ca.pem`, `server.pem` and `server.key` into the configuration's directory.
    pub fn write_server(&self, cfg: &Config) {
        std::fs::write(cfg.file("ca.pem"), &self.ca).unwrap();
        std::fs::write(cfg.file("server.pem"), &self.cert).unwrap();
        std::fs::write(cfg.file("server.key"), &self.key).unwrap();
    }
}

pub fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&key, &issuer).unwrap();
    Pki { ca: ca.pem(), cert: cert.pem(), key: key.serialize_pem() }
}
