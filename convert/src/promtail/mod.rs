//! Promtail → Alloy: clients become `loki.write`, each scrape config becomes its
//! discovery, `loki.process` (pipeline stages), relabelling and `loki.source.*` components, in
//! upstream's lazy creation order.
//!
//! The YAML is read strictly (unknown keys are a Critical with their line), over Promtail's
//! flag defaults.

mod scrape;
mod server;
mod sources;
mod stages;
mod value;
mod write;

use crate::builder::File;
use crate::diag::{Diagnostics, Severity};
use crate::yaml::{self, Errors, Fields, Node};
use crate::Conversion;

/// `time.Duration` as go-yaml decodes it: Go duration text, or an integer of nanoseconds.
pub(crate) fn go_dur(n: &Node, errs: &mut Errors) -> i64 {
    let text = yaml::string(n, errs);
    if let Ok(d) = eval::decode::Duration::parse(&text) {
        return d.nanos;
    }
    match text.parse::<i64>() {
        Ok(v) if !matches!(n.kind, yaml::Kind::Scalar { quoted: true, .. }) => v,
        _ => {
            errs.soft(n.line, format!("cannot unmarshal {} `{text}` into time.Duration", n.tag()));
            0
        }
    }
}

/// Promtail's limits (`limits_config`), used by every scrape config and the writers.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub readline_rate: f64,
    pub readline_burst: i64,
    pub readline_rate_enabled: bool,
    pub readline_rate_drop: bool,
    pub max_streams: i64,
    pub max_line_size: u64,
    pub max_line_size_truncate: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            readline_rate: 10000.0,
            readline_burst: 10000,
            readline_rate_enabled: false,
            readline_rate_drop: true,
            max_streams: 0,
            max_line_size: 0,
            max_line_size_truncate: false,
        }
    }
}

/// What every scrape config shares.
pub(crate) struct Global {
    /// `loki.write.<label>.receiver` for each client.
    pub write_receivers: Vec<String>,
    pub target_sync_period: i64,
    pub limits: Limits,
    pub file_watch: (i64, i64),
    pub positions_file: String,
}

const DEFAULT_POLL_FREQUENCY: i64 = 250_000_000;
const DEFAULT_SYNC_PERIOD: i64 = 10_000_000_000;

pub fn convert(input: &[u8]) -> Conversion {
    crate::convert_yaml(input, "Promtail", |root, errs| Ok(build(root, errs)))
}

/// The top-level `server` settings the converter looks at.
struct TopServer {
    profiling_enabled: bool,
    register_instrumentation: bool,
    log_level: String,
    path_prefix: String,
    health_check_target: Option<bool>,
}

fn build(root: &Node, errs: &mut Errors) -> (File, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut file = File::default();
    let mut top = Fields::new(root, "config.plain", errs);

    let mut file_watch = (DEFAULT_POLL_FREQUENCY, DEFAULT_POLL_FREQUENCY);
    if let Some(n) = top.get("global") {
        let mut f = Fields::new(n, "config.GlobalConfig", errs);
        if let Some(w) = f.get("file_watch_config") {
            let mut g = Fields::new(w, "file.WatchConfig", errs);
            if let Some(v) = g.get("min_poll_frequency") {
                file_watch.0 = go_dur(v, errs);
            }
            if let Some(v) = g.get("max_poll_frequency") {
                file_watch.1 = go_dur(v, errs);
            }
            g.finish(errs);
        }
        f.finish(errs);
    }

    let server = top.get("server").map(|n| read_top_server(n, errs)).unwrap_or(TopServer {
        profiling_enabled: false,
        register_instrumentation: true,
        log_level: "info".into(),
        path_prefix: String::new(),
        health_check_target: None,
    });

    let mut clients = Vec::new();
    if let Some(n) = top.get("clients") {
        for item in yaml::seq(n, "[]client.Config", errs) {
            clients.push(write::read_client(item, errs));
        }
    }
    if let Some(n) = top.get("client") {
        let c = write::read_client(n, errs);
        if !c.url.is_empty() {
            clients.push(c);
        }
    }

    let mut positions_file = "/var/log/positions.yaml".to_string();
    if let Some(n) = top.get("positions") {
        let mut f = Fields::new(n, "positions.Config", errs);
        if let Some(v) = f.get("sync_period") {
            go_dur(v, errs);
        }
        if let Some(v) = f.get("filename") {
            positions_file = yaml::string(v, errs);
        }
        f.boolean("ignore_invalid_yaml", false, errs);
        f.finish(errs);
    }

    let mut sync_period = DEFAULT_SYNC_PERIOD;
    let mut stdin = false;
    if let Some(n) = top.get("target_config") {
        let mut f = Fields::new(n, "file.Config", errs);
        if let Some(v) = f.get("sync_period") {
            sync_period = go_dur(v, errs);
        }
        stdin = f.boolean("stdin", false, errs);
        f.finish(errs);
    }

    let limits = top.get("limits_config").map(|n| read_limits(n, errs)).unwrap_or_default();

    let mut tracing_enabled = true;
    if let Some(n) = top.get("tracing") {
        let mut f = Fields::new(n, "tracing.Config", errs);
        tracing_enabled = f.boolean("enabled", true, errs);
        f.finish(errs);
    }
    let mut wal_enabled = false;
    if let Some(n) = top.get("wal") {
        let mut f = Fields::new(n, "wal.Config", errs);
        wal_enabled = f.boolean("enabled", false, errs);
        if let Some(v) = f.get("cleanSegmentsOlderThan") {
            go_dur(v, errs);
        }
        f.string("dir", errs);
        if let Some(w) = f.get("watchConfig") {
            let mut g = Fields::new(w, "wal.WatchConfig", errs);
            for k in ["minReadFrequency", "maxReadFrequency", "drainTimeout"] {
                if let Some(v) = g.get(k) {
                    go_dur(v, errs);
                }
            }
            g.finish(errs);
        }
        f.finish(errs);
    }
    if let Some(n) = top.get("options") {
        let mut f = Fields::new(n, "config.Options", errs);
        f.boolean("stream_lag_labels", false, errs);
        f.finish(errs);
    }
    let scrape_configs: Vec<&Node> = match top.get("scrape_configs") {
        Some(n) => yaml::seq(n, "[]scrapeconfig.Config", errs).iter().collect(),
        None => Vec::new(),
    };
    top.finish(errs);

    // Top-level checks, in upstream's order, each at the key it is about (when the file has it).
    let at = |path: &[&str]| yaml::key_pos(root, path);
    if wal_enabled {
        diags.add_at(Severity::Error, "Promtail's WAL is currently not supported in Alloy", at(&["wal", "enabled"]), Vec::new());
    }
    if limits.readline_rate_enabled {
        diags.add_at(
            Severity::Warning,
            "limits_config rate limiting settings (readline_rate, readline_burst, readline_rate_drop) have been converted to stage.limit stages in each loki.process component. Unlike Promtail's global rate limiter, these limits apply independently per pipeline rather than across all pipelines combined.",
            at(&["limits_config", "readline_rate_enabled"]),
            Vec::new(),
        );
    }
    if tracing_enabled {
        diags.add_at(
            Severity::Warning,
            "If you have a tracing set up for Promtail, it cannot be migrated to Alloy automatically. Refer to the documentation on how to configure tracing in Alloy.",
            at(&["tracing", "enabled"]),
            Vec::new(),
        );
    }
    if stdin {
        diags.add_at(Severity::Error, "reading targets from stdin is not supported in Alloy configuration file", at(&["target_config", "stdin"]), Vec::new());
    }
    if server.profiling_enabled {
        diags.add_at(
            Severity::Warning,
            "server.profiling_enabled is not supported - use Alloy's main HTTP server's profiling endpoints instead",
            at(&["server", "profiling_enabled"]),
            Vec::new(),
        );
    }
    if server.register_instrumentation {
        diags.add_at(
            Severity::Warning,
            "Alloy's metrics are different from the metrics emitted by Promtail. If you rely on Promtail's metrics, you must change your configuration, for example, your alerts and dashboards.",
            at(&["server", "register_instrumentation"]),
            Vec::new(),
        );
    }
    if server.log_level != "info" {
        diags.add_at(
            Severity::Warning,
            "The converter does not support converting the provided server.log_level config: The equivalent feature in Alloy is to use the logging config block to set the level argument.",
            at(&["server", "log_level"]),
            Vec::new(),
        );
    }
    if !server.path_prefix.is_empty() {
        diags.add_at(Severity::Error, "server.http_path_prefix is not supported", at(&["server", "http_path_prefix"]), Vec::new());
    }
    if server.health_check_target == Some(false) {
        diags.add_at(Severity::Warning, "server.health_check_target disabling is not supported in Alloy", at(&["server", "health_check_target"]), Vec::new());
    }

    let mut writers = Vec::new();
    let mut write_receivers = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        let label = if i == 0 { "default".to_string() } else { format!("default_{}", i + 1) };
        writers.push(write::loki_write(c, &label, limits.max_streams, &mut diags));
        write_receivers.push(format!("loki.write.{label}.receiver"));
    }

    let global = Global { write_receivers, target_sync_period: sync_period, limits, file_watch, positions_file };
    let mut job_names = std::collections::HashSet::new();
    for sc in scrape_configs {
        scrape::append(&mut file, sc, &global, &mut job_names, &mut diags, errs);
    }
    file.blocks.extend(writers);
    (file, diags)
}

fn read_top_server(n: &Node, errs: &mut Errors) -> TopServer {
    let mut f = Fields::new(n, "server.Config", errs);
    let s = server::read(&mut f, server::Defaults::Flags, errs);
    let out = TopServer {
        profiling_enabled: f.boolean("profiling_enabled", false, errs),
        register_instrumentation: s.register_instrumentation,
        log_level: s.log_level.clone(),
        path_prefix: s.path_prefix.clone(),
        health_check_target: f.get("health_check_target").map(|v| yaml::boolean(v, errs)),
    };
    f.string("external_url", errs);
    f.boolean("disable", false, errs);
    f.boolean("enable_runtime_reload", false, errs);
    f.finish(errs);
    out
}

fn read_limits(n: &Node, errs: &mut Errors) -> Limits {
    let mut l = Limits::default();
    let mut f = Fields::new(n, "limit.Config", errs);
    if let Some(v) = f.get("readline_rate") {
        l.readline_rate = yaml::float(v, errs);
    }
    if let Some(v) = f.get("readline_burst") {
        l.readline_burst = yaml::int(v, "int", errs);
    }
    l.readline_rate_enabled = f.boolean("readline_rate_enabled", false, errs);
    l.readline_rate_drop = f.boolean("readline_rate_drop", true, errs);
    if let Some(v) = f.get("max_streams") {
        l.max_streams = yaml::int(v, "int", errs);
    }
    if let Some(v) = f.get("max_line_size") {
        let text = yaml::string(v, errs);
        match value::parse_byte_size(&text) {
            Ok(b) => l.max_line_size = b,
            Err(e) => errs.hard(e),
        }
    }
    l.max_line_size_truncate = f.boolean("max_line_size_truncate", false, errs);
    f.finish(errs);
    l
}
