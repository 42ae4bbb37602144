//! blackbox_exporter's probes, run in process for `prometheus.exporter.blackbox`: a scrape names a `target` and a
//! `module` of the module file, the module's prober (`http`, `tcp`, `dns`, `icmp`) probes the target, and the
//! result is the probe's metrics in the text format, as upstream's `/probe` handler returns them.
//!
//! Timeout rule (upstream's `getTimeout`): the scrape timeout (the `X-Prometheus-Scrape-Timeout-Seconds` header,
//! 120s without one) minus `probe_timeout_offset`, lowered to the module's `timeout` when that is set and shorter
//! (or when the subtraction goes negative). In process there is no header: the caller passes the scrape timeout it
//! assumes (see [`Options::scrape_timeout`]).
//!
//! Where this differs from upstream: HTTP is spoken as HTTP/1.1 only (upstream negotiates HTTP/2 over TLS, so
//! `probe_http_version` reads 1.1 where upstream may read 2); redirects carry no cookie jar; TLS is rustls (TLS 1.2
//! and 1.3), and `probe_ssl_last_chain_expiry_timestamp_seconds` is taken over the presented chain (upstream: over
//! the verified chains, root included). Options not implemented are refused when the module file is read.

pub mod config;
mod der;
pub(crate) mod dns;
mod http;
mod icmp;
mod net;
mod tcp;
mod tls;
mod yaml;

use std::time::{Duration, Instant};

pub use config::{Config, ConfigError, Module, Prober};

use crate::expfmt::{MetricType, Sink};

/// The module a scrape without `module` parameter probes with.
pub const DEFAULT_MODULE: &str = "http_2xx";

/// Upstream's default `probe_timeout_offset`.
pub const DEFAULT_TIMEOUT_OFFSET: Duration = Duration::from_millis(500);

/// How probes run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Subtracted from the scrape timeout so the probe ends before the scrape gives up.
    pub timeout_offset: Duration,
    /// The scrape's timeout in seconds, as upstream reads it from `X-Prometheus-Scrape-Timeout-Seconds`; `None`
    /// when unknown (upstream then assumes 120s).
    pub scrape_timeout: Option<f64>,
    /// The HTTP prober's `User-Agent` unless the module sets one.
    pub user_agent: String,
}

impl Default for Options {
    fn default() -> Self {
        Options { timeout_offset: DEFAULT_TIMEOUT_OFFSET, scrape_timeout: None, user_agent: format!("Blackbox Exporter/v{}", env!("CARGO_PKG_VERSION")) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Error,
}

/// What one probe produced.
#[derive(Debug)]
pub struct Outcome {
    pub success: bool,
    /// The probe's metrics in the text format 0.0.4.
    pub body: String,
    /// The probe's log lines (upstream's scrape logger), oldest first.
    pub log: Vec<(Level, String)>,
}

/// A request upstream's handler answers with 400.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("Unknown module {0:?}")]
    UnknownModule(String),
    #[error("Target parameter is missing")]
    MissingTarget,
    /// The `hostname` parameter contradicts the module's `Host` header.
    #[error("host header defined both in module configuration ({0}) and with URL-parameter 'hostname' ({1})")]
    Hostname(String, String),
}

/// Upstream's `getTimeout`, in seconds.
pub fn probe_timeout(module: &Module, offset: Duration, scrape_timeout: Option<f64>) -> f64 {
    let scrape = scrape_timeout.filter(|t| *t != 0.0).unwrap_or(120.0);
    let max = scrape - offset.as_secs_f64();
    let module_timeout = module.timeout.as_secs_f64();
    if (module_timeout < max && module_timeout > 0.0) || max < 0.0 {
        module_timeout
    } else {
        max
    }
}

/// Upstream's `/probe` handler: the `module` (default [`DEFAULT_MODULE`]) and `target` query parameters, the probe,
/// and its metrics (`probe_success`, `probe_duration_seconds` and the prober's own).
pub fn handle(config: &Config, params: &[(String, String)], opts: &Options) -> Result<Outcome, RequestError> {
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default();
    let module_name = match param("module") {
        "" => DEFAULT_MODULE,
        m => m,
    };
    let module = config.modules.get(module_name).ok_or_else(|| RequestError::UnknownModule(module_name.to_string()))?;
    let target = param("target");
    if target.is_empty() {
        return Err(RequestError::MissingTarget);
    }
    let mut module = module.clone();
    let hostname = param("hostname");
    if !hostname.is_empty() {
        match module.prober {
            Prober::Http => {
                if let Some((_, v)) = module.http.headers.iter().find(|(k, v)| k.eq_ignore_ascii_case("host") && v != hostname) {
                    return Err(RequestError::Hostname(v.clone(), hostname.to_string()));
                }
                module.http.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("host"));
                module.http.headers.push(("Host".into(), hostname.to_string()));
            }
            Prober::Tcp if module.tcp.tls_config.server_name.is_empty() => module.tcp.tls_config.server_name = hostname.to_string(),
            _ => {}
        }
    }
    Ok(run(&module, module_name, target, opts))
}

/// Runs one probe of `target` with `module`.
pub fn run(module: &Module, module_name: &str, target: &str, opts: &Options) -> Outcome {
    let timeout = probe_timeout(module, opts.timeout_offset, opts.scrape_timeout);
    let start = Instant::now();
    let deadline = net::Deadline(start + Duration::try_from_secs_f64(timeout.max(0.0)).unwrap_or(Duration::ZERO));
    let mut p = Probe::default();
    p.info(format!("Beginning probe probe={} timeout_seconds={timeout} module={module_name} target={target}", module.prober.as_str()));
    let success = match module.prober {
        Prober::Http => http::probe(&mut p, target, &module.http, deadline, &opts.user_agent),
        Prober::Tcp => tcp::probe(&mut p, target, &module.tcp, deadline),
        Prober::Dns => dns::probe(&mut p, target, &module.dns, deadline),
        Prober::Icmp => icmp::probe(&mut p, target, &module.icmp, deadline),
    };
    let duration = start.elapsed().as_secs_f64();
    p.gauge("probe_duration_seconds", "Returns how long the probe took to complete in seconds", duration);
    p.gauge("probe_success", "Displays whether or not the probe was a success", if success { 1.0 } else { 0.0 });
    if success {
        p.info(format!("Probe succeeded duration_seconds={duration}"));
    } else {
        p.error(format!("Probe failed duration_seconds={duration}"));
    }
    let mut sink = Sink::new();
    for m in &p.metrics {
        let values: Vec<&str> = m.values.iter().map(String::as_str).collect();
        sink.sample(m.name, m.help, MetricType::Gauge, m.labels, &values, m.value);
    }
    let mut body = String::new();
    sink.render(&mut body);
    Outcome { success, body, log: p.log }
}

struct Metric {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    values: Vec<String>,
    value: f64,
}

/// A probe's registry and log: a gauge set twice keeps the last value, as a client_golang gauge does.
#[derive(Default)]
pub(crate) struct Probe {
    metrics: Vec<Metric>,
    log: Vec<(Level, String)>,
}

impl Probe {
    pub fn gauge(&mut self, name: &'static str, help: &'static str, value: f64) {
        self.gauge_vec(name, help, &[], Vec::new(), value);
    }

    pub fn gauge_vec(&mut self, name: &'static str, help: &'static str, labels: &'static [&'static str], values: Vec<String>, value: f64) {
        if let Some(m) = self.metrics.iter_mut().find(|m| m.name == name && m.values == values) {
            m.value = value;
            return;
        }
        self.metrics.push(Metric { name, help, labels, values, value });
    }

    pub fn debug(&mut self, msg: impl Into<String>) {
        self.log.push((Level::Debug, msg.into()));
    }

    pub fn info(&mut self, msg: impl Into<String>) {
        self.log.push((Level::Info, msg.into()));
    }

    pub fn error(&mut self, msg: impl Into<String>) {
        self.log.push((Level::Error, msg.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(timeout: Duration) -> Module {
        let mut c = Config::parse("modules:\n  m:\n    prober: tcp\n").unwrap();
        let mut m = c.modules.remove("m").unwrap();
        m.timeout = timeout;
        m
    }

    #[test]
    fn timeout_rule_as_upstream() {
        let off = Duration::from_millis(500);
        // Header 10s, no module timeout: 9.5s.
        assert_eq!(probe_timeout(&module(Duration::ZERO), off, Some(10.0)), 9.5);
        // A shorter module timeout wins.
        assert_eq!(probe_timeout(&module(Duration::from_secs(5)), off, Some(10.0)), 5.0);
        // A longer one does not.
        assert_eq!(probe_timeout(&module(Duration::from_secs(30)), off, Some(10.0)), 9.5);
        // No header: 120s.
        assert_eq!(probe_timeout(&module(Duration::ZERO), off, None), 119.5);
        // Offset larger than the scrape timeout: the module's.
        assert_eq!(probe_timeout(&module(Duration::from_secs(3)), Duration::from_secs(20), Some(10.0)), 3.0);
    }

    #[test]
    fn unknown_module_and_missing_target() {
        let c = Config::parse("modules:\n  tcp:\n    prober: tcp\n").unwrap();
        let o = Options::default();
        let e = handle(&c, &[("target".into(), "x:1".into())], &o).unwrap_err();
        assert_eq!(e.to_string(), "Unknown module \"http_2xx\"");
        let e = handle(&c, &[("module".into(), "tcp".into())], &o).unwrap_err();
        assert_eq!(e.to_string(), "Target parameter is missing");
    }
}
