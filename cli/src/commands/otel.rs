//! `alloy otel`: run OpenTelemetry Collector configurations on this runtime.
//!
//! The `--config` URIs and `--set` values are read with the collector's rules
//! (`convert::otelcol::collector::confmap`), laid out as Alloy components with the collector's
//! pipeline semantics (`…::collector::graph`), checked by the analyzer with every component's
//! own argument rules, and run by the same controller as `alloy run`, with its HTTP API, UI
//! and reloads (SIGHUP and `/-/reload` read every `--config` source again). Every error is
//! reported in the collector YAML: the file, line and column of the component or key at fault.

use std::process::ExitCode;
use std::sync::Arc;

use analyzer::{Analysis, FileReport, Options, Stability};
use anyhow::{bail, Context};
use convert::otelcol::collector::{self, ConfigError, Engine, Host, Resolved, Source};
use runtime::{Controller, LoadError, SourceFn};
use syntax::{Diagnostic, LineIndex};
use tokio_util::sync::CancellationToken;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = false)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Sub>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Address of the HTTP API and UI.
    #[arg(long = "server.http.listen-addr", default_value = "127.0.0.1:12345", global = true)]
    pub listen_addr: String,
    /// Base directory for components' data.
    #[arg(long = "storage.path", default_value = "data-alloy/", global = true)]
    pub storage_path: std::path::PathBuf,
    /// How long to wait for a component to stop on reload or shutdown (Go duration).
    #[arg(long = "feature.component-shutdown-deadline", default_value = "10m", global = true)]
    pub shutdown_deadline: String,
    /// Disable anonymous usage reporting (this runtime never reports usage).
    #[arg(long = "disable-reporting", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", global = true)]
    pub disable_reporting: bool,
}

/// Where the configuration comes from, as the collector's command line takes it.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    /// A configuration URI: `file:PATH` or a bare path, `env:VAR`, `yaml:key::path: value`.
    /// Repeatable; later ones are merged over earlier ones.
    #[arg(long = "config", global = true)]
    pub config: Vec<String>,
    /// Set a value: `key::path=value` (applied after every --config).
    #[arg(long = "set", global = true)]
    pub set: Vec<String>,
    /// Collector feature gates (`+id` or `-id`, comma-separated); none is implemented, so any
    /// gate is refused by name.
    #[arg(long = "feature-gates", global = true)]
    pub feature_gates: Vec<String>,
}

#[derive(clap::Subcommand, Debug)]
pub enum Sub {
    /// Check the configuration: resolution, components, pipelines and every component's
    /// settings, without starting anything.
    Validate,
    /// List the collector components this binary runs, with their stability.
    Components,
    /// Print the merged and expanded configuration (secrets redacted unless
    /// `--mode=unredacted`).
    PrintConfig {
        #[arg(long, value_enum, default_value = "redacted")]
        mode: PrintMode,
        /// `yaml`: the collector configuration; `alloy`: the Alloy configuration that runs it.
        #[arg(long, value_enum, default_value = "yaml")]
        format: PrintFormat,
    },
    /// List the feature gates (none: this runtime implements no collector feature gate).
    Featuregate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PrintFormat {
    Yaml,
    Alloy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PrintMode {
    Redacted,
    Unredacted,
}

/// Whether this binary runs the Alloy component `name`.
fn runs(name: &str) -> bool {
    runtime::components::registry().contains(name)
}

/// Every component the collector engine can use is allowed: the collector has no stability
/// gate of Alloy's kind.
fn options() -> Options {
    Options { stability: Stability::Experimental, community: true }
}

/// The name the generated configuration is known by in reports and the API.
const GENERATED: &str = "otelcol.alloy";

/// Settings a running `alloy otel` was started with: a reload that changes them is refused
/// (the servers and the data directory are not moved while running).
struct Fixed {
    listen_addr: String,
    storage_path: std::path::PathBuf,
    telemetry_addr: Option<String>,
}

impl Fixed {
    fn of(l: &Loaded, args: &Args) -> Fixed {
        Fixed::with_defaults(l, &(args.listen_addr.clone(), args.storage_path.clone()))
    }

    fn with_defaults(l: &Loaded, (listen, storage): &(String, std::path::PathBuf)) -> Fixed {
        Fixed {
            listen_addr: l.flags.listen_addr.clone().unwrap_or_else(|| listen.clone()),
            storage_path: l.flags.storage_path.clone().unwrap_or_else(|| storage.clone()),
            telemetry_addr: l.engine.telemetry_addr.as_ref().map(|(a, _)| a.clone()),
        }
    }

    fn unchanged_in(&self, l: &Loaded, defaults: &(String, std::path::PathBuf)) -> Result<(), String> {
        let now = Fixed::with_defaults(l, defaults);
        let changed = [
            (self.listen_addr != now.listen_addr, "the alloyengine flag server.http.listen-addr"),
            (self.storage_path != now.storage_path, "the alloyengine flag storage.path"),
            (self.telemetry_addr != now.telemetry_addr, "service::telemetry::metrics' address"),
        ];
        match changed.iter().find(|(c, _)| *c) {
            Some((_, what)) => Err(format!("{what} changed: restart alloy otel to apply it")),
            None => Ok(()),
        }
    }
}

/// Everything a load gives: the sources read, the engine's configuration, and the Alloy
/// configuration of an `alloyengine` extension.
#[derive(Clone)]
struct Loaded {
    resolved: Resolved,
    engine: Engine,
    /// The `alloyengine` extension's Alloy files, run in the same controller.
    alloy_files: AlloyFiles,
    /// The extension's `alloy run` flags that apply.
    flags: EngineFlags,
}

/// The `alloy run` flags an `alloyengine` extension may set.
#[derive(Clone, Debug, Default)]
struct EngineFlags {
    /// The stability level its Alloy configuration is checked at (`alloy run`'s default).
    stability: Option<Stability>,
    community: bool,
    listen_addr: Option<String>,
    storage_path: Option<std::path::PathBuf>,
}

/// Alloy files as (name, text).
type AlloyFiles = Vec<(String, String)>;

/// Reads the extension's Alloy configuration and applies its flags; errors at their keys.
fn alloy_engine(ext: &collector::alloyengine::AlloyEngine, host: &Host) -> Result<(AlloyFiles, EngineFlags), Vec<ConfigError>> {
    use collector::alloyengine::AlloyConfig;
    let mut errors = Vec::new();
    let mut flags = EngineFlags::default();
    for (name, value, at) in &ext.flags {
        let refuse = |what: String| ConfigError::at(format!("{}: flag {name:?}: {what}", ext.id), *at);
        match name.as_str() {
            "stability.level" => match super::report::parse_stability(value) {
                Ok(s) => flags.stability = Some(s),
                Err(e) => errors.push(refuse(e)),
            },
            "feature.community-components.enabled" => flags.community = value == "true",
            "server.http.listen-addr" => flags.listen_addr = Some(value.clone()),
            "storage.path" => flags.storage_path = Some(value.into()),
            "disable-reporting" => {}
            _ => errors.push(refuse("not supported in the alloyengine extension by this build".into())),
        }
    }
    let files = match &ext.config {
        AlloyConfig::Inline { module_path: Some(_), .. } => {
            errors.push(ConfigError::at(format!("{}: config.inline.module_path is not supported by this build", ext.id), ext.at));
            Vec::new()
        }
        AlloyConfig::Inline { content, .. } => vec![(format!("{} (inline)", ext.id), content.clone())],
        AlloyConfig::Path(p) if std::path::Path::new(p).is_dir() => match analyzer::load_path(std::path::Path::new(p)) {
            Ok(files) => files,
            Err(e) => {
                errors.push(ConfigError::at(format!("{}: {e}", ext.id), ext.at));
                Vec::new()
            }
        },
        AlloyConfig::Path(p) => match (host.read_file)(p) {
            Ok(bytes) => vec![(p.clone(), String::from_utf8_lossy(&bytes).into_owned())],
            Err(e) => {
                errors.push(ConfigError::at(format!("{}: cannot read config.path {p:?}: {e}", ext.id), ext.at));
                Vec::new()
            }
        },
    };
    for (name, text) in &files {
        if text.lines().any(|l| l.strip_prefix("remotecfg").is_some_and(|r| r.trim_start().starts_with('{'))) {
            errors.push(ConfigError::at(format!("{}: {name}: block \"remotecfg\" is not supported in Alloy extension", ext.id), ext.at));
        }
    }
    if errors.is_empty() {
        Ok((files, flags))
    } else {
        Err(errors)
    }
}

/// Reads every source and builds the engine's Alloy; errors are rendered reports.
fn load(args: &ConfigArgs) -> Result<Loaded, Vec<FileReport>> {
    load_with(args, &Host::system())
}

fn load_with(args: &ConfigArgs, host: &Host) -> Result<Loaded, Vec<FileReport>> {
    if let Some(gate) = args.feature_gates.iter().flat_map(|g| g.split(',')).map(str::trim).find(|g| !g.is_empty()) {
        let id = gate.trim_start_matches(['+', '-']);
        return Err(vec![plain_report(format!("feature gate {id:?} is not supported by this build"))]);
    }
    let resolved = collector::resolve(&args.config, &args.set, host).map_err(|f| reports(&[f.error], &f.sources))?;
    let engine = collector::build(&resolved, &runs).map_err(|errs| reports(&errs, &resolved.sources))?;
    let (alloy_files, flags) = match &engine.alloy_engine {
        Some(ext) => alloy_engine(ext, host).map_err(|errs| reports(&errs, &resolved.sources))?,
        None => (Vec::new(), EngineFlags::default()),
    };
    Ok(Loaded { resolved, engine, alloy_files, flags })
}

/// The analyzer's verdict on the generated configuration, placed back in the collector YAML.
///
/// A collector default this runtime does not implement (a server timeout, say) is dropped
/// from the generated Alloy rather than refused, as `alloy run` ignores an Alloy default it does
/// not implement; the same setting written in the YAML is refused by name.
fn check(loaded: &mut Loaded) -> Vec<FileReport> {
    let alloy_reports = check_alloy_files(loaded);
    // Each pass removes every implicit default the analysis refuses (an error may surface only
    // once another is gone, hence a few passes at most).
    for _ in 0..8 {
        let mut analysis = Analysis::with_rules(options(), runtime::components::registry());
        analysis.set_files(loaded.files());
        let diagnostics = analysis.diagnostics();
        let generated = diagnostics.iter().filter(|r| r.path == GENERATED);
        let errors: Vec<(&FileReport, &Diagnostic)> =
            generated.flat_map(|r| r.diagnostics.iter().filter(|d| d.severity == syntax::Severity::Error).map(move |d| (r, d))).collect();
        let mut implicit: Vec<usize> = errors
            .iter()
            .filter_map(|(r, d)| {
                let setting = unsupported_setting(&d.message)?;
                let m = component_at(&loaded.engine, &r.text, d.span.start as usize)?;
                let written = loaded.engine.yaml_of(m).and_then(|n| key_position(n, setting)).is_some();
                (!written).then_some(d.span.start as usize)
            })
            .collect();
        // One removal per line, from the end, so the offsets before each removal stay valid.
        let text = &loaded.engine.alloy;
        implicit = implicit.into_iter().map(|o| text[..o.min(text.len())].rfind('\n').map_or(0, |i| i + 1)).collect();
        implicit.sort_unstable_by(|a, b| b.cmp(a));
        implicit.dedup();
        match implicit.is_empty() {
            false => {
                for offset in implicit {
                    loaded.engine.alloy = remove_statement(&loaded.engine.alloy, offset);
                }
            }
            true => {
                let placed: Vec<ConfigError> = errors.iter().map(|(r, d)| place(&loaded.engine, r, d)).collect();
                if placed.is_empty() {
                    // Removed statements leave attribute alignment behind: format again.
                    if let Ok(formatted) = syntax::format::format_source(loaded.engine.alloy.as_bytes()) {
                        loaded.engine.alloy = formatted;
                    }
                }
                // The extension's own files are reported as `alloy run` reports them.
                let mut out = reports(&placed, &loaded.resolved.sources);
                let user = diagnostics.into_iter().filter(|r| r.path != GENERATED && r.has_errors());
                out.extend(user.chain(alloy_reports));
                return out;
            }
        }
    }
    vec![plain_report("the generated configuration did not settle".into())]
}

/// The `alloyengine` extension's files checked on their own at the extension's stability
/// level, as `alloy run` would check them: only the stability errors, the rest comes from the
/// check of everything together.
fn check_alloy_files(loaded: &Loaded) -> Vec<FileReport> {
    if loaded.alloy_files.is_empty() {
        return Vec::new();
    }
    let opts = Options { stability: loaded.flags.stability.unwrap_or(Stability::GenerallyAvailable), community: loaded.flags.community };
    let mut analysis = Analysis::with_rules(opts, runtime::components::registry());
    analysis.set_files(loaded.alloy_files.clone());
    let mut out = analysis.diagnostics();
    for r in &mut out {
        r.diagnostics.retain(|d| d.code == Some("stability"));
    }
    out.retain(|r| !r.diagnostics.is_empty());
    out
}

impl Loaded {
    /// Every file the controller runs: the generated one, then the extension's.
    fn files(&self) -> Vec<(String, String)> {
        let mut files = vec![(GENERATED.to_string(), self.engine.alloy.clone())];
        files.extend(self.alloy_files.iter().cloned());
        files
    }
}

/// The setting a runtime refusal names: `argument "X" is not supported by this runtime yet`.
fn unsupported_setting(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("argument \"").or_else(|| message.strip_prefix("block \""))?;
    let (name, tail) = rest.split_once('"')?;
    tail.starts_with(" is not supported by this runtime").then_some(name)
}

/// The generated statement (an attribute, maybe over several lines, or a block) on the line
/// of `offset`, removed.
fn remove_statement(text: &str, offset: usize) -> String {
    let start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let mut depth: i32 = 0;
    let mut end = text.len();
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text[start..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '{' | '[' | '(' if !in_string => depth += 1,
            '}' | ']' | ')' if !in_string => depth -= 1,
            '\n' if !in_string && depth <= 0 => {
                end = start + i + 1;
                break;
            }
            _ => {}
        }
    }
    format!("{}{}", &text[..start], &text[end..])
}

/// The collector component whose generated block holds `offset`.
fn component_at<'e>(engine: &'e Engine, text: &str, offset: usize) -> Option<&'e collector::Mapped> {
    let header = text[..offset.min(text.len())].lines().rev().find(|l| !l.starts_with([' ', '\t']) && l.ends_with('{'))?;
    let alloy_id = header.trim_end_matches('{').trim().replace(" \"", ".").replace('"', "");
    engine.by_alloy_id(&alloy_id)
}

/// A diagnostic in the generated Alloy as an error at the collector component it came from.
/// A setting the runtime refuses is placed on its key when the YAML writes it.
fn place(engine: &Engine, report: &FileReport, d: &Diagnostic) -> ConfigError {
    match component_at(engine, &report.text, d.span.start as usize) {
        Some(m) => {
            let key = unsupported_setting(&d.message).and_then(|s| engine.yaml_of(m).and_then(|n| key_position(n, s)));
            ConfigError::at(format!("{}: {}", m.collector_name(), d.message), key.unwrap_or(m.at))
        }
        None => ConfigError::new(d.message.clone()),
    }
}

/// Where the YAML below `n` writes the key `key` (or one starting with it, as
/// `max_recv_msg_size_mib` does for `max_recv_msg_size`).
fn key_position(n: &convert::yaml::Node, key: &str) -> Option<collector::Pos> {
    use convert::yaml::Kind;
    match &n.kind {
        Kind::Scalar { .. } => None,
        Kind::Seq(items) => items.iter().find_map(|i| key_position(i, key)),
        Kind::Map(entries) => {
            entries.iter().find_map(|(k, v)| if k.scalar().is_some_and(|k| k.starts_with(key)) { Some(k.pos()) } else { key_position(v, key) })
        }
    }
}

fn plain_report(message: String) -> FileReport {
    let mut r = FileReport { path: "alloy otel".into(), text: String::new(), lines: LineIndex::new(b""), diagnostics: Vec::new() };
    r.diagnostics.push(Diagnostic::error(syntax::Span::new(0, 0), message));
    r
}

/// Errors as reports on the sources they point into (grouped per source, in order).
fn reports(errors: &[ConfigError], sources: &[Source]) -> Vec<FileReport> {
    let mut out: Vec<FileReport> = Vec::new();
    for e in errors {
        let Some((source, pos)) = e.at.and_then(|p| sources.get(usize::from(p.source)).map(|s| (s, p))).filter(|(s, p)| p.line > 0 && s.is_file) else {
            out.push(plain_report(e.render(sources)));
            continue;
        };
        let lines = LineIndex::new(source.text.as_bytes());
        let span = super::converted::line_span(&source.text, &lines, pos.line as u32, Some(pos.col as u32));
        let d = Diagnostic::error(span, e.message.clone()).with_code("otel");
        match out.iter_mut().find(|r| r.path == source.name) {
            Some(r) => r.diagnostics.push(d),
            None => out.push(FileReport { path: source.name.clone(), text: source.text.clone(), lines, diagnostics: vec![d] }),
        }
    }
    out
}

/// Prints reports: snippets at a terminal, `FILE:LINE:COL: message` lines otherwise.
fn print_reports(reports: &[FileReport]) {
    for r in reports {
        if r.text.is_empty() {
            for d in &r.diagnostics {
                eprintln!("{}", d.message);
            }
        } else {
            super::report::diagnostics(&r.path, &r.text, &r.lines, &r.diagnostics);
        }
    }
}

fn warn(loaded: &Loaded) {
    for w in &loaded.engine.warnings {
        tracing::warn!("{}", w.render(&loaded.resolved.sources));
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(Sub::Components) => components(),
        Some(Sub::Featuregate) => {
            super::output::stdout(b"ID\tEnabled\tStage\tDescription\n")?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Sub::Validate) => match load(&args.config).and_then(|mut l| Some(check(&mut l)).filter(|r| !r.is_empty()).map_or(Ok(l), Err)) {
            Ok(_) => Ok(ExitCode::SUCCESS),
            Err(r) => {
                print_reports(&r);
                eprintln!("Error: invalid configuration");
                Ok(ExitCode::FAILURE)
            }
        },
        Some(Sub::PrintConfig { mode, format }) => match load(&args.config) {
            Ok(mut l) => {
                match format {
                    PrintFormat::Yaml => super::output::stdout(collector::print::to_yaml(&l.resolved.root, mode == PrintMode::Redacted).as_bytes())?,
                    PrintFormat::Alloy => {
                        let problems = check(&mut l);
                        if !problems.is_empty() {
                            print_reports(&problems);
                            return Ok(ExitCode::FAILURE);
                        }
                        super::output::stdout(l.engine.alloy.as_bytes())?;
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(r) => {
                print_reports(&r);
                Ok(ExitCode::FAILURE)
            }
        },
        None => serve(args),
    }
}

/// `alloy otel components`: the collector types this binary runs, in the collector's layout:
/// each with the Alloy component that runs it and its stability per signal (connectors per
/// signal pair, extensions once), from the collector's own metadata
/// (`convert::otelcol::collector::signals`).
fn components() -> anyhow::Result<ExitCode> {
    super::output::stdout(components_yaml().as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn components_yaml() -> String {
    let mut out = format!(
        "buildinfo:\n  command: alloy otel\n  description: Alloy (Rust) running OpenTelemetry Collector configurations\n  version: {}\n",
        env!("CARGO_PKG_VERSION")
    );
    let catalogue = collector::graph::catalogue();
    for (kind, section) in
        [("receiver", "receivers"), ("processor", "processors"), ("exporter", "exporters"), ("connector", "connectors"), ("extension", "extensions")]
    {
        let mut rows: Vec<(&str, &str)> = catalogue.iter().filter(|(k, _, alloy)| *k == kind && runs(alloy)).map(|(_, ty, alloy)| (*ty, *alloy)).collect();
        rows.sort();
        out.push_str(&format!("{section}:\n"));
        for (ty, alloy) in rows {
            out.push_str(&format!("  - name: {ty}\n    alloy: {alloy}\n    stability:\n"));
            for (signal, level) in collector::signals::of(alloy).unwrap_or_default() {
                out.push_str(&format!("      {}: {level}\n", signal.replace('_', "-")));
            }
        }
    }
    out
}

fn serve(args: Args) -> anyhow::Result<ExitCode> {
    let deadline = eval::decode::Duration::parse(&args.shutdown_deadline).map_err(|e| anyhow::anyhow!("--feature.component-shutdown-deadline: {e}"))?;
    let deadline = deadline.to_std().filter(|d| !d.is_zero()).unwrap_or(std::time::Duration::from_secs(100 * 365 * 24 * 3600));
    let mut loaded = match load(&args.config) {
        Ok(l) => l,
        Err(r) => {
            print_reports(&r);
            bail!("could not perform the initial load successfully");
        }
    };
    let problems = check(&mut loaded);
    if !problems.is_empty() {
        print_reports(&problems);
        bail!("could not perform the initial load successfully");
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(async move {
        runtime::services::logging::init();
        warn(&loaded);
        let registry = runtime::metrics::Registry::new();
        runtime::process::register(&registry);
        runtime::process::register_build_info(&registry, env!("CARGO_PKG_VERSION"));
        let config = args.config.clone();
        // Which collector component each Alloy component is, for the telemetry endpoint.
        let mapping = Arc::new(std::sync::RwLock::new(loaded.engine.components.clone()));
        let current = mapping.clone();
        let origins = runtime::controller::Origins::default();
        let current_origins = origins.clone();
        // What the process was started with and a reload cannot change.
        let fixed = Fixed::of(&loaded, &args);
        let (storage_path, listen_addr) = (fixed.storage_path.clone(), fixed.listen_addr.clone());
        let defaults = (args.listen_addr.clone(), args.storage_path.clone());
        // The first load takes the configuration read and checked above; a reload reads every
        // source again, and its errors are the collector's, placed in the YAML.
        let first = std::sync::Mutex::new(Some(loaded.clone()));
        let source: SourceFn = Arc::new(move || {
            let taken = first.lock().unwrap_or_else(|e| e.into_inner()).take();
            let l = match taken {
                Some(l) => l,
                None => {
                    let mut l = load(&config).map_err(|r| render_plain(&r))?;
                    let problems = check(&mut l);
                    if !problems.is_empty() {
                        return Err(render_plain(&problems));
                    }
                    fixed.unchanged_in(&l, &defaults)?;
                    warn(&l);
                    l
                }
            };
            *current.write().unwrap_or_else(|e| e.into_inner()) = l.engine.components.clone();
            *current_origins.write().unwrap_or_else(|e| e.into_inner()) = l.engine.components.iter().map(|m| (m.alloy.clone(), m.collector_name())).collect();
            Ok(l.files())
        });
        let options = runtime::Options { stability: Stability::Experimental, community: true, storage_path, shutdown_deadline: deadline, origins };
        let controller = Controller::new(options, runtime::components::registry(), registry, source);
        if let Err(e) = controller.load().await {
            match &e {
                LoadError::Read(msg) => eprintln!("{msg}"),
                _ => super::report::file_reports(e.reports()),
            }
            bail!("could not perform the initial load successfully");
        }
        for m in &loaded.engine.components {
            tracing::info!(component = %m.collector_name(), runs_as = %m.alloy, "collector component started");
        }
        let stop_server = CancellationToken::new();
        let (_, server) = match runtime::http::serve(&listen_addr, controller.clone(), stop_server.clone()).await {
            Ok(s) => s,
            Err(e) => {
                controller.shutdown().await;
                bail!("failed to listen on {listen_addr}: {e}");
            }
        };
        let mut telemetry = None;
        if let Some((addr, _)) = &loaded.engine.telemetry_addr {
            let registry = controller.registry().clone();
            let render: runtime::http::RenderFn = Arc::new(move || {
                let components = mapping.read().unwrap_or_else(|e| e.into_inner()).clone();
                runtime::metrics::render_families(telemetry::relabel(registry.gather(), &components))
            });
            match runtime::http::serve_metrics(addr, render, stop_server.clone()).await {
                Ok((_, handle)) => telemetry = Some(handle),
                Err(e) => {
                    controller.shutdown().await;
                    bail!("service::telemetry::metrics: failed to listen on {addr}: {e}");
                }
            }
        }
        tracing::info!("{{^_^}} Alloy is running the collector configuration");
        super::run::wait_for_signals(&controller).await?;
        stop_server.cancel();
        controller.shutdown().await;
        let _ = server.await;
        if let Some(t) = telemetry {
            let _ = t.await;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The engine's checked Alloy for one collector file, or its errors as reports.
fn engine_for_file(path: &std::path::Path) -> Result<Loaded, Vec<FileReport>> {
    let mut loaded = load(&ConfigArgs { config: vec![path.display().to_string()], ..ConfigArgs::default() })?;
    let problems = check(&mut loaded);
    if problems.is_empty() {
        Ok(loaded)
    } else {
        Err(problems)
    }
}

/// `alloy run --config.format=otelcol PATH` takes the engine's path, as `alloy otel
/// --config=PATH` does.
pub fn read_collector_file(path: &std::path::Path) -> Result<Vec<(String, String)>, String> {
    engine_for_file(path).map(|l| l.files()).map_err(|r| render_plain(&r))
}

/// `alloy validate --config.format=otelcol PATH`: the engine's errors, placed in the YAML.
pub fn validate_collector_file(path: &std::path::Path) -> Vec<FileReport> {
    engine_for_file(path).err().unwrap_or_default()
}

/// Reports as `FILE:LINE:COL: message` lines, for reload errors and the API.
fn render_plain(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for r in reports {
        if r.text.is_empty() {
            r.diagnostics.iter().for_each(|d| out.push_str(&format!("{}\n", d.message)));
        } else {
            out.push_str(&syntax::diagnostics::render_short(&r.path, &r.lines, &r.diagnostics));
        }
    }
    out.trim_end().to_string()
}

mod telemetry;

#[cfg(test)]
mod tests;
