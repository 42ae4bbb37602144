//! `alloy run [flags] PATH`: load a configuration (file or directory), start its components
//! and serve the HTTP API until SIGINT/SIGTERM; SIGHUP and `/-/reload` reload it.
//!
//! Every upstream flag is accepted. Flags whose feature this runtime lacks (clustering, the
//! in-memory listener, pprof, GraphQL, a UI prefix) are refused with a clear error when they
//! ask for that feature, never silently ignored.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use analyzer::Stability;
use anyhow::{bail, Context};
use runtime::{Controller, LoadError, Options, SourceFn};
use tokio_util::sync::CancellationToken;

/// Bool flags take `--flag` or `--flag=true|false`, as upstream's.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A configuration file, or a directory whose `*.alloy` files form one configuration.
    pub path: PathBuf,
    /// Address to listen for HTTP traffic on.
    #[arg(long = "server.http.listen-addr", default_value = "127.0.0.1:12345")]
    pub listen_addr: String,
    /// Address to listen for in-memory HTTP traffic on (not supported yet).
    #[arg(long = "server.http.memory-addr")]
    pub memory_addr: Option<String>,
    /// Prefix to serve the HTTP UI and web API at (default "/"), e.g. behind a reverse proxy.
    #[arg(long = "server.http.ui-path-prefix")]
    pub ui_path_prefix: Option<String>,
    /// Enable /debug/pprof profiling endpoints (not supported yet; "false" is accepted).
    #[arg(long = "server.http.enable-pprof", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub enable_pprof: Option<bool>,
    /// Disable the support bundle endpoint (this runtime serves no support bundle).
    #[arg(long = "server.http.disable-support-bundle", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub disable_support_bundle: Option<bool>,
    /// Enable the GraphQL API (experimental; not supported yet).
    #[arg(long = "server.http.enable-graphql", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub enable_graphql: Option<bool>,
    /// Enable the GraphQL playground (experimental; not supported yet).
    #[arg(long = "server.http.enable-graphql-playground", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub enable_graphql_playground: Option<bool>,
    /// Base directory for components' data.
    #[arg(long = "storage.path", default_value = "data-alloy/")]
    pub storage_path: PathBuf,
    /// Minimum stability level of features to enable: "experimental", "public-preview" or
    /// "generally-available".
    #[arg(long = "stability.level", default_value = "generally-available", value_parser = super::report::parse_stability)]
    pub stability: Stability,
    /// The format of the configuration: alloy, otelcol, prometheus, promtail, static.
    #[arg(long = "config.format", default_value = "alloy")]
    pub config_format: String,
    /// Run even when the converter reports errors (not critical ones).
    #[arg(long = "config.bypass-conversion-errors", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub bypass_conversion_errors: bool,
    /// Extra flags of the source format, for the converter.
    #[arg(long = "config.extra-args", default_value = "", allow_hyphen_values = true)]
    pub extra_args: String,
    /// Disable anonymous usage reporting (this runtime never reports usage).
    #[arg(long = "disable-reporting", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub disable_reporting: bool,
    /// Enable clustering (not supported yet).
    #[arg(long = "cluster.enabled", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub cluster_enabled: bool,
    #[command(flatten)]
    pub cluster: ClusterFlags,
    /// Allow community components.
    #[arg(long = "feature.community-components.enabled", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub community: bool,
    /// How long to wait for a component to stop on reload or shutdown (Go duration; 0 waits forever).
    #[arg(long = "feature.component-shutdown-deadline", default_value = "10m")]
    pub shutdown_deadline: String,
    /// Send Prometheus samples directly to their destinations (experimental; this runtime has
    /// no global label store, so this is the only behaviour).
    #[arg(long = "feature.prometheus.direct-fanout.enabled", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub direct_fanout: bool,
    /// Process priority on Windows (only "normal" is supported).
    #[arg(long = "windows.priority", default_value = "normal")]
    pub windows_priority: String,
    /// Deprecated; has no effect.
    #[arg(long = "cluster.use-discovery-v1", num_args = 0..=1, require_equals = true, default_missing_value = "true", hide = true)]
    pub use_discovery_v1: Option<bool>,
    /// Deprecated; has no effect.
    #[arg(long = "feature.prometheus.metric-validation-scheme", hide = true)]
    pub metric_validation_scheme: Option<String>,
}

/// Clustering flags: accepted, refused when given (clustering is not supported yet).
#[derive(clap::Args, Debug)]
pub struct ClusterFlags {
    #[arg(long = "cluster.node-name")]
    pub node_name: Option<String>,
    #[arg(long = "cluster.advertise-address")]
    pub advertise_address: Option<String>,
    #[arg(long = "cluster.advertise-interfaces")]
    pub advertise_interfaces: Option<String>,
    #[arg(long = "cluster.join-addresses")]
    pub join_addresses: Option<String>,
    #[arg(long = "cluster.discover-peers")]
    pub discover_peers: Option<String>,
    #[arg(long = "cluster.rejoin-interval")]
    pub rejoin_interval: Option<String>,
    #[arg(long = "cluster.max-join-peers")]
    pub max_join_peers: Option<String>,
    #[arg(long = "cluster.name")]
    pub name: Option<String>,
    #[arg(long = "cluster.enable-tls", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub enable_tls: Option<bool>,
    #[arg(long = "cluster.tls-ca-path")]
    pub tls_ca_path: Option<String>,
    #[arg(long = "cluster.tls-cert-path")]
    pub tls_cert_path: Option<String>,
    #[arg(long = "cluster.tls-key-path")]
    pub tls_key_path: Option<String>,
    #[arg(long = "cluster.tls-server-name")]
    pub tls_server_name: Option<String>,
    #[arg(long = "cluster.wait-for-size")]
    pub wait_for_size: Option<String>,
    #[arg(long = "cluster.wait-timeout")]
    pub wait_timeout: Option<String>,
}

impl ClusterFlags {
    fn given(&self) -> Option<&'static str> {
        let c = self;
        [
            (c.node_name.is_some(), "--cluster.node-name"),
            (c.advertise_address.is_some(), "--cluster.advertise-address"),
            (c.advertise_interfaces.is_some(), "--cluster.advertise-interfaces"),
            (c.join_addresses.is_some(), "--cluster.join-addresses"),
            (c.discover_peers.is_some(), "--cluster.discover-peers"),
            (c.rejoin_interval.is_some(), "--cluster.rejoin-interval"),
            (c.max_join_peers.is_some(), "--cluster.max-join-peers"),
            (c.name.is_some(), "--cluster.name"),
            (c.enable_tls.is_some(), "--cluster.enable-tls"),
            (c.tls_ca_path.is_some(), "--cluster.tls-ca-path"),
            (c.tls_cert_path.is_some(), "--cluster.tls-cert-path"),
            (c.tls_key_path.is_some(), "--cluster.tls-key-path"),
            (c.tls_server_name.is_some(), "--cluster.tls-server-name"),
            (c.wait_for_size.is_some(), "--cluster.wait-for-size"),
            (c.wait_timeout.is_some(), "--cluster.wait-timeout"),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }
}

fn not_supported(flag: &str, what: &str) -> anyhow::Error {
    anyhow::anyhow!("{flag}: {what} is not supported by this runtime yet")
}

/// Checks flag combinations before anything starts; returns the shutdown deadline.
fn check_flags(a: &Args) -> anyhow::Result<Duration> {
    let experimental_only = [
        (a.enable_graphql == Some(true), "server.http.enable-graphql"),
        (a.enable_graphql_playground == Some(true), "server.http.enable-graphql-playground"),
        (a.direct_fanout, "feature.prometheus.direct-fanout.enabled"),
    ];
    for (on, flag) in experimental_only {
        if on && a.stability > Stability::Experimental {
            bail!("'--{flag}' can only be used at experimental stability level. Use --stability.level=experimental to enable.");
        }
    }
    if a.enable_graphql == Some(true) || a.enable_graphql_playground == Some(true) {
        return Err(not_supported("--server.http.enable-graphql", "the GraphQL API"));
    }
    if a.memory_addr.is_some() {
        return Err(not_supported("--server.http.memory-addr", "the in-memory HTTP listener"));
    }
    if a.enable_pprof == Some(true) {
        return Err(not_supported("--server.http.enable-pprof", "the pprof endpoint"));
    }
    if a.cluster_enabled {
        return Err(not_supported("--cluster.enabled", "clustering"));
    }
    if let Some(flag) = a.cluster.given() {
        return Err(not_supported(flag, "clustering"));
    }
    if a.windows_priority != "normal" {
        return Err(not_supported("--windows.priority", "a process priority other than \"normal\""));
    }
    if a.use_discovery_v1.is_some() {
        eprintln!("Flag --cluster.use-discovery-v1 has been deprecated, this flag has no effect");
    }
    if a.metric_validation_scheme.is_some() {
        eprintln!("Flag --feature.prometheus.metric-validation-scheme has been deprecated, this flag has no effect");
    }
    if a.config_format != "alloy" && convert::Format::parse(&a.config_format).is_none() {
        bail!("unknown config format {:?} (expected alloy, otelcol, prometheus, promtail or static)", a.config_format);
    }
    let deadline = eval::decode::Duration::parse(&a.shutdown_deadline).map_err(|e| anyhow::anyhow!("--feature.component-shutdown-deadline: {e}"))?;
    Ok(match deadline.to_std() {
        Some(d) if !d.is_zero() => d,
        // 0 waits (effectively) forever, as upstream.
        _ => Duration::from_secs(100 * 365 * 24 * 3600),
    })
}

/// Reads the configuration: a directory's `*.alloy` files, or one file converted from
/// another format first.
fn read_config(path: &Path, format: &str, bypass: bool, extra_args: &str) -> Result<Vec<(String, String)>, String> {
    if format == "alloy" || path.is_dir() {
        return analyzer::load_path(path).map_err(|e| e.to_string());
    }
    if format == "otelcol" {
        return super::otel::read_collector_file(path);
    }
    let bytes = std::fs::read(path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    let extra = convert::parse_extra_args(extra_args).map_err(|e| e.to_string())?;
    let result = convert::convert(&bytes, format, &extra);
    if result.diagnostics.is_failure(bypass) {
        return Err(format!("could not convert {} from {format}:\n{}", path.display(), result.diagnostics));
    }
    Ok(vec![(path.display().to_string(), result.output.unwrap_or_default())])
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let deadline = check_flags(&args)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(serve(args, deadline))
}

async fn serve(args: Args, shutdown_deadline: Duration) -> anyhow::Result<ExitCode> {
    runtime::services::logging::init();
    let registry = runtime::metrics::Registry::new();
    runtime::process::register(&registry);
    runtime::process::register_build_info(&registry, env!("CARGO_PKG_VERSION"));
    let (path, format, bypass, extra) = (args.path.clone(), args.config_format.clone(), args.bypass_conversion_errors, args.extra_args.clone());
    let source: SourceFn = Arc::new(move || read_config(&path, &format, bypass, &extra));
    let options =
        Options { stability: args.stability, community: args.community, storage_path: args.storage_path.clone(), shutdown_deadline, ..Options::default() };
    let controller = Controller::new(options, runtime::components::registry(), registry, source);

    if let Err(e) = controller.load().await {
        if let LoadError::Read(msg) = &e {
            bail!("{msg}");
        }
        super::report::file_reports(e.reports());
        eprintln!();
        bail!("could not perform the initial load successfully");
    }

    let stop_server = CancellationToken::new();
    let prefix = runtime::http::Prefix::new(args.ui_path_prefix.as_deref().unwrap_or("/"));
    let (_, server) = match runtime::http::serve_with_prefix(&args.listen_addr, controller.clone(), &prefix, stop_server.clone()).await {
        Ok(s) => s,
        Err(e) => {
            controller.shutdown().await;
            bail!("failed to listen on {}: {e}", args.listen_addr);
        }
    };
    tracing::info!("{{^_^}} Alloy is running");

    wait_for_signals(&controller).await?;
    tracing::info!("shutting down");
    stop_server.cancel();
    controller.shutdown().await;
    let _ = server.await;
    tracing::info!("Alloy has stopped");
    Ok(ExitCode::SUCCESS)
}

/// Reloads on SIGHUP; returns on SIGINT or SIGTERM.
#[cfg(unix)]
pub async fn wait_for_signals(controller: &Controller) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    loop {
        tokio::select! {
            _ = hup.recv() => match controller.load().await {
                Ok(()) => tracing::info!("config reloaded"),
                Err(e) => tracing::error!(err = %e, "failed to reload config"),
            },
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
        }
    }
}

/// Returns on Ctrl-C (no SIGHUP elsewhere: reload through `/-/reload`).
#[cfg(not(unix))]
pub async fn wait_for_signals(_: &Controller) -> anyhow::Result<()> {
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
}
