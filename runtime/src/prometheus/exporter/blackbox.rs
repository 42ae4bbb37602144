//! `prometheus.exporter.blackbox`: blackbox_exporter's probers (the `exporters` crate) served inside this process.
//! Each `target` block (or `targets` entry) is one scrape target whose `__param_target` and `__param_module` become
//! the scrape's `target` and `module` query parameters; scraping it runs the probe.
//!
//! The probe timeout follows upstream's rule with the scrape timeout it would read from
//! `X-Prometheus-Scrape-Timeout-Seconds`; in process no header reaches the handler, so `prometheus.scrape`'s default
//! `scrape_timeout` (10s) stands in for it: a probe gets the module's `timeout` when shorter, else
//! 10s - `probe_timeout_offset`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eval::{Object, Value};
use exporters::blackbox::{self as bb, Config};

use crate::component::args::{decode_checked, types::Dur, types::SecretText};
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};

const NAME: &str = "prometheus.exporter.blackbox";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["targets"], build);

/// What stands in for the scrape-timeout header (prometheus.scrape's default `scrape_timeout`).
const ASSUMED_SCRAPE_TIMEOUT_SECONDS: f64 = 10.0;

/// One probe target: from a `target` block or an entry of `targets`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Target {
    pub name: String,
    pub address: String,
    pub module: String,
    /// Extra labels of the exported target (the block's `labels`, or an entry's other keys).
    pub labels: BTreeMap<String, String>,
}

impl Arguments for Target {
    fn decode(r: &mut Reader<'_>) -> Self {
        Target { name: r.get("name"), address: r.get("address"), module: r.get("module"), labels: r.get("labels") }
    }
}

#[derive(Default)]
pub struct Args {
    pub config_file: String,
    pub config: String,
    pub probe_timeout_offset: Duration,
    /// The targets to export: the `target` blocks, else the `targets` entries (upstream's order of preference).
    pub targets: Vec<Target>,
    /// The inline `config`, parsed (`None` with `config_file` or when it does not parse).
    pub modules: Option<Config>,
    blocks: usize,
    list: Vec<BTreeMap<String, String>>,
}

/// Upstream's `getAddress`: `address`, else `__address__`.
fn address_of(entry: &BTreeMap<String, String>) -> Option<&String> {
    entry.get("address").or_else(|| entry.get("__address__"))
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        let blocks: Vec<Target> = r.blocks("target");
        let list: Vec<BTreeMap<String, String>> = r.get("targets");
        let targets = if !blocks.is_empty() {
            blocks.clone()
        } else {
            list.iter()
                .map(|entry| Target {
                    name: entry.get("name").cloned().unwrap_or_default(),
                    address: address_of(entry).cloned().unwrap_or_default(),
                    module: entry.get("module").cloned().unwrap_or_default(),
                    labels: entry
                        .iter()
                        .filter(|(k, _)| !matches!(k.as_str(), "name" | "__address__" | "address" | "module"))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                })
                .collect()
        };
        let config: String = r.get::<SecretText>("config").0;
        let modules = if config.is_empty() { None } else { Config::parse(&config).ok() };
        Args {
            config_file: r.get("config_file"),
            config,
            probe_timeout_offset: r.get::<Dur>("probe_timeout_offset").0,
            blocks: blocks.len(),
            targets,
            modules,
            list,
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(self.config_file.is_empty() || self.config.is_empty(), &["config", "config_file"], "config and config_file are mutually exclusive");
        if r.known("config") && r.known("config_file") {
            r.check(!self.config_file.is_empty() || !self.config.is_empty(), &[""], "config or config_file must be set");
        }
        if !self.config.is_empty() {
            if let Err(e) = Config::parse(&self.config) {
                r.error("config", format!("invalid blackbox_exporter config: {e}"));
            }
        }
        r.check(self.blocks == 0 || self.list.is_empty(), &["targets", "target"], "the block `target` and the attribute `targets` are mutually exclusive");
        for entry in &self.list {
            if !entry.contains_key("name") {
                r.error("targets", "all targets must have a `name`");
                break;
            }
            if address_of(entry).is_none() {
                r.error("targets", "all targets must have an `address` or an `__address__` label");
                break;
            }
        }
        let at = if self.blocks > 0 { "target" } else { "targets" };
        if self.targets.iter().any(|t| t.name.is_empty() || t.address.is_empty()) {
            r.error(at, "failed to load blackbox_targets; the `name` and `address` fields are mandatory");
        }
        if let Some(c) = &self.modules {
            if let Err(e) = check_modules(&self.targets, c) {
                r.error(at, e);
            }
        }
    }
}

/// Every target's module (the default when it names none) must be one of the config's: a probe with an unknown
/// module can only fail.
fn check_modules(targets: &[Target], config: &Config) -> Result<(), String> {
    for t in targets {
        let module = if t.module.is_empty() { bb::DEFAULT_MODULE } else { t.module.as_str() };
        if !config.modules.contains_key(module) {
            let known: Vec<&str> = config.modules.keys().map(String::as_str).collect();
            let default = if t.module.is_empty() { " (the module of a target that names none)" } else { "" };
            return Err(format!("target {:?}: module {module:?}{default} is not in the blackbox config (modules: {})", t.name, known.join(", ")));
        }
    }
    Ok(())
}

/// The module file: the inline `config` or `config_file`, checked against the targets.
fn load(args: &Args) -> Result<Config, ComponentError> {
    let config = if !args.config_file.is_empty() {
        Config::load_file(&args.config_file).map_err(|e| ComponentError(format!("failed to load blackbox config from file {}: {e}", args.config_file)))?
    } else {
        Config::parse(&args.config).map_err(|e| ComponentError(format!("invalid blackbox_exporter config: {e}")))?
    };
    check_modules(&args.targets, &config).map_err(ComponentError)?;
    Ok(config)
}

/// The exported targets: per probe target, its labels, then the exporter's own (which win), `job` extended with the
/// target's name, and the probe's parameters.
fn targets(ctx: &Context, args: &Args) -> Value {
    let base: Vec<(String, String)> = match super::target(ctx, "blackbox", ctx.id()) {
        Value::Array(items) => match items.first() {
            Some(Value::Object(o)) => o
                .iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k.to_string(), s.to_string_lossy().into_owned())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let items = args
        .targets
        .iter()
        .map(|t| {
            let mut labels = t.labels.clone();
            labels.extend(base.iter().cloned());
            let job = labels.get("job").cloned().unwrap_or_default();
            labels.insert("job".into(), format!("{job}/{}", t.name));
            labels.insert("__param_target".into(), t.address.clone());
            if !t.module.is_empty() {
                labels.insert("__param_module".into(), t.module.clone());
            }
            let obj: Object = labels.into_iter().map(|(k, v)| (k.into(), Value::string(v))).collect();
            Value::object(obj)
        })
        .collect();
    Value::array(items)
}

struct Probing {
    config: Config,
    options: bb::Options,
}

struct Blackbox {
    ctx: Context,
    state: Arc<Mutex<Arc<Probing>>>,
    _served: super::Registered,
}

fn probing(args: &Args) -> Result<Probing, ComponentError> {
    let options = bb::Options {
        timeout_offset: args.probe_timeout_offset,
        scrape_timeout: Some(ASSUMED_SCRAPE_TIMEOUT_SECONDS),
        user_agent: format!("Blackbox Exporter/v{}", env!("CARGO_PKG_VERSION")),
    };
    Ok(Probing { config: load(args)?, options })
}

/// Runs a probe for the scrape's query parameters. Probes block (sockets with deadlines): on a multi-threaded
/// runtime the worker is handed over for the duration, so other tasks keep running.
fn serve(id: &str, state: &Mutex<Arc<Probing>>, params: &[(String, String)]) -> (String, Vec<u8>) {
    let current = state.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let probe = || bb::handle(&current.config, params, &current.options);
    let result = match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(probe),
        _ => probe(),
    };
    match result {
        Ok(outcome) => {
            for (_, line) in &outcome.log {
                crate::prometheus::log(id, tracing::Level::DEBUG, line);
            }
            ("text/plain; version=0.0.4; charset=utf-8".to_string(), outcome.body.into_bytes())
        }
        Err(e) => {
            // Upstream answers 400 with the message; here the scrape fails on it.
            crate::prometheus::log(id, tracing::Level::WARN, &format!("probe request refused: {e}"));
            ("text/plain; charset=utf-8".to_string(), format!("{e}\n").into_bytes())
        }
    }
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let state = Arc::new(Mutex::new(Arc::new(probing(&args)?)));
    let current = state.clone();
    let id = ctx.id().to_string();
    let served = super::register(ctx.id(), Arc::new(move |params: &[(String, String)]| serve(&id, &current, params)));
    let mut exports = Object::new();
    exports.insert("targets", targets(&ctx, &args));
    ctx.set_exports(Value::object(exports));
    Ok(Arc::new(Blackbox { ctx, state, _served: served }))
}

impl Component for Blackbox {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        let p = probing(&args)?;
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(p);
        let mut exports = Object::new();
        exports.insert("targets", targets(&self.ctx, &args));
        self.ctx.set_exports(Value::object(exports));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use super::*;
    use crate::component::args::{decode, describe, evaluated};
    use crate::component::detached_context;

    const MODULES: &str = "modules:\\n  http_2xx:\\n    prober: http\\n    timeout: 5s\\n  tcp:\\n    prober: tcp\\n";

    fn args(body: &str) -> Value {
        evaluated(&format!("prometheus.exporter.blackbox \"t\" {{\n{body}\n}}\n")).expect("evaluates")
    }

    fn errors(body: &str) -> Vec<String> {
        match decode::<Args>(NAME, &args(body)) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(describe).collect(),
        }
    }

    #[test]
    fn blackbox_config_rules() {
        assert_eq!(errors("target {\n name = \"a\"\n address = \"x\"\n}"), ["config or config_file must be set"]);
        assert_eq!(errors(&format!("config = \"{MODULES}\"\nconfig_file = \"m.yml\"")), ["config: config and config_file are mutually exclusive"]);
        let bad = errors("config = \"{ modules: { http_2xx: { prober: http, timeout: 5s }\"");
        assert_eq!(bad.len(), 1);
        assert!(bad[0].starts_with("config: invalid blackbox_exporter config: yaml: line 1: "), "{bad:?}");
        assert_eq!(
            errors("config = \"{ module: { http_2xx: { prober: http } } }\""),
            ["config: invalid blackbox_exporter config: yaml: unmarshal errors:\n  line 1: field module not found in type config.plain"]
        );
        assert_eq!(errors("config = \"modules: {a: {prober: ftp}}\""), ["config: invalid blackbox_exporter config: line 1: prober 'ftp' is not valid"]);
    }

    #[test]
    fn blackbox_targets_must_name_known_modules() {
        let e = errors(&format!("config = \"{MODULES}\"\ntarget {{\n name = \"a\"\n address = \"x:1\"\n module = \"dns\"\n}}"));
        assert_eq!(e, ["target: target \"a\": module \"dns\" is not in the blackbox config (modules: http_2xx, tcp)"]);
        let e = errors("config = \"modules: {tcp: {prober: tcp}}\"\ntargets = [{name = \"a\", address = \"x:1\"}]");
        assert_eq!(e, ["targets: target \"a\": module \"http_2xx\" (the module of a target that names none) is not in the blackbox config (modules: tcp)"]);
        let e = errors(&format!("config = \"{MODULES}\"\ntargets = [{{address = \"x:1\"}}]"));
        assert_eq!(e[0], "targets: all targets must have a `name`");
        let e = errors(&format!("config = \"{MODULES}\"\ntargets = [{{name = \"a\"}}]"));
        assert_eq!(e[0], "targets: all targets must have an `address` or an `__address__` label");
        let e = errors(&format!("config = \"{MODULES}\"\ntargets = [{{name = \"a\", address = \"b\"}}]\ntarget {{\n name = \"a\"\n address = \"x\"\n}}"));
        assert_eq!(e, ["targets: the block `target` and the attribute `targets` are mutually exclusive"]);
    }

    fn exported(body: &str) -> Vec<BTreeMap<String, String>> {
        let ctx = detached_context("prometheus.exporter.blackbox.t");
        let a: Args = decode_checked(NAME, &args(body)).expect("decodes");
        match targets(&ctx, &a) {
            Value::Array(items) => items
                .iter()
                .map(|t| match t {
                    Value::Object(o) => o
                        .iter()
                        .map(|(k, v)| (k.to_string(), if let Value::String(s) = v { s.to_string_lossy().into_owned() } else { String::new() }))
                        .collect(),
                    _ => BTreeMap::new(),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn blackbox_exports_one_target_per_probe() {
        let t = exported(&format!(
            "config = \"{MODULES}\"\ntarget {{\n name = \"web\"\n address = \"http://example.com\"\n module = \"http_2xx\"\n labels = {{env = \"prod\", job = \"ignored\"}}\n}}\ntarget {{\n name = \"ssh\"\n address = \"example.com:22\"\n module = \"tcp\"\n}}"
        ));
        assert_eq!(t.len(), 2);
        assert_eq!(t[0]["job"], "integrations/blackbox/web");
        assert_eq!(t[0]["instance"], "prometheus.exporter.blackbox.t");
        assert_eq!(t[0]["__param_target"], "http://example.com");
        assert_eq!(t[0]["__param_module"], "http_2xx");
        assert_eq!(t[0]["env"], "prod");
        assert_eq!(t[0]["__metrics_path__"], "/api/v0/component/prometheus.exporter.blackbox.t/metrics");
        assert_eq!(t[1]["job"], "integrations/blackbox/ssh");
        assert!(!t[1].contains_key("env"));
        // From `targets`: the other keys are labels; no module, no `__param_module`.
        let t = exported(&format!("config = \"{MODULES}\"\ntargets = [{{name = \"a\", __address__ = \"h:80\", team = \"x\"}}]"));
        assert_eq!(t[0]["__param_target"], "h:80");
        assert_eq!(t[0]["team"], "x");
        assert_eq!(t[0]["__address__"], "alloy.internal:12345");
        assert!(!t[0].contains_key("__param_module"));
    }

    #[test]
    fn blackbox_scrape_runs_the_probe() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let mut r = BufReader::new(conn);
                let mut line = String::new();
                while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ = r.get_mut().write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        });
        let id = "prometheus.exporter.blackbox.e2e";
        let ctx = crate::component::detached_context(id);
        let v = args(&format!("config = \"{MODULES}\"\ntarget {{\n name = \"local\"\n address = \"127.0.0.1:{port}\"\n module = \"http_2xx\"\n}}"));
        let component = build(ctx, v).expect("builds");
        let handler = crate::prometheus::exporter::lookup(&crate::prometheus::exporter::metrics_path(id)).expect("registered");
        let (content_type, body) = handler(&[("target".into(), format!("127.0.0.1:{port}")), ("module".into(), "http_2xx".into())]);
        let body = String::from_utf8(body).expect("utf-8");
        assert!(content_type.starts_with("text/plain; version=0.0.4"));
        assert!(body.contains("\nprobe_success 1\n"), "{body}");
        assert!(body.contains("\nprobe_http_status_code 200\n"), "{body}");
        let (_, body) = handler(&[("target".into(), "127.0.0.1:1".into()), ("module".into(), "nope".into())]);
        assert_eq!(String::from_utf8_lossy(&body), "Unknown module \"nope\"\n");
        drop(component);
        assert!(crate::prometheus::exporter::lookup(&crate::prometheus::exporter::metrics_path(id)).is_none(), "unregistered with the component");
    }
}
