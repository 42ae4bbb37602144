//! `prometheus.scrape`: one scrape loop per target (`scrape_loop.rs`), each fetching
//! (`fetch.rs`), parsing through a series cache (`cache.rs`) and appending to `forward_to`.
//! When only `targets` change, loops of targets that stay keep running; any other change
//! restarts the loops with the new settings (upstream reloads its scrape pool the same way).

pub mod cache;
pub mod duration;
pub mod fetch;
pub mod scrape_loop;
pub mod target;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eval::{Object, Value};
use prom::exposition::{accept_header, validate_fallback_protocol, validate_scrape_protocols, ScrapeProtocol};
use prom::labels::Labels;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::http_client::HttpClientConfig;
use crate::prometheus::receiver::{Fanout, ReceiverHandle};
use scrape_loop::{Loop, Status, Stop};
use target::{Target, TargetDefaults};

const NAME: &str = "prometheus.scrape";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &[], build);

#[derive(Default)]
pub struct Args {
    pub targets: Vec<BTreeMap<String, String>>,
    pub forward_to: Vec<ReceiverHandle>,
    pub job_name: Option<String>,
    /// The job is filled in from the component's ID when `job_name` is not set.
    pub defaults: TargetDefaults,
    pub settings: Settings,
    pub target_limit: u64,
}

/// What every loop of the component shares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    pub accept: String,
    pub fallback: Option<ScrapeProtocol>,
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub track_timestamps_staleness: bool,
    pub scrape_native_histograms: bool,
    pub enable_compression: bool,
    pub body_size_limit: u64,
    pub sample_limit: u64,
    pub label_limit: u64,
    pub label_name_length_limit: u64,
    pub label_value_length_limit: u64,
    pub extra_metrics: bool,
    pub legacy_names: bool,
    pub client: HttpClientConfig,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&[
            "clustering",
            "convert_classic_histograms_to_nhcb",
            "native_histogram_bucket_limit",
            "native_histogram_min_bucket_factor",
            "scrape_failure_log_file",
            "honor_metadata",
            "enable_type_and_unit_labels",
            "start_timestamp_zero_ingestion",
        ]);
        let interval = r.get::<Dur>("scrape_interval").0;
        let timeout = r.get::<Dur>("scrape_timeout").0;
        let native: bool = r.get("scrape_native_histograms");
        let negotiation: bool = r.get("enable_protobuf_negotiation");
        let written_protocols = r.is_set("scrape_protocols");
        let mut protocol_names: Vec<String> = r.get("scrape_protocols");
        if (negotiation || native) && !written_protocols {
            protocol_names.insert(0, "PrometheusProto".into());
        }
        let escaping_default = |legacy: bool| if legacy { "underscores" } else { "allow-utf-8" };
        let validation: String = r.get("metric_name_validation_scheme");
        let legacy = validation != "utf8";
        let escaping = r.opt::<String>("metric_name_escaping_scheme").filter(|s| !s.is_empty()).unwrap_or_else(|| escaping_default(legacy).to_string());
        let fallback: String = r.get("scrape_fallback_protocol");
        let fallback = fallback.replace('_', ".");
        let protocols = match validate_scrape_protocols(&protocol_names) {
            Ok(p) => p,
            Err(e) => {
                r.error("scrape_protocols", e);
                Vec::new()
            }
        };
        let accept = accept_header(&protocols, &escaping);
        let fallback = match validate_fallback_protocol(&fallback) {
            Ok(f) => f,
            Err(e) => {
                r.error("scrape_fallback_protocol", e);
                None
            }
        };
        let client: HttpClientConfig = HttpClientConfig::decode(r);
        client.validate(r);
        let args = Args {
            targets: r.get("targets"),
            forward_to: r.get("forward_to"),
            job_name: r.computed::<String>("job_name").filter(|s| !s.is_empty()),
            defaults: TargetDefaults {
                job: String::new(),
                interval,
                timeout,
                metrics_path: r.get("metrics_path"),
                scheme: r.opt::<String>("scheme").filter(|s| !s.is_empty()).unwrap_or_else(|| "http".into()),
                params: r.get("params"),
                scrape_native_histograms: native || negotiation,
                scrape_classic_histograms: r.get("scrape_classic_histograms"),
                convert_classic_histograms_to_nhcb: false,
            },
            settings: Settings {
                accept,
                fallback,
                honor_labels: r.get("honor_labels"),
                honor_timestamps: r.get("honor_timestamps"),
                track_timestamps_staleness: r.get("track_timestamps_staleness"),
                scrape_native_histograms: native || negotiation,
                enable_compression: r.get("enable_compression"),
                body_size_limit: r.get::<i64>("body_size_limit").max(0) as u64,
                sample_limit: r.get("sample_limit"),
                label_limit: r.get("label_limit"),
                label_name_length_limit: r.get("label_name_length_limit"),
                label_value_length_limit: r.get("label_value_length_limit"),
                extra_metrics: r.get("extra_metrics"),
                legacy_names: legacy,
                client,
            },
            target_limit: r.get("target_limit"),
        };
        if native && !protocol_names.iter().any(|p| p == "PrometheusProto") {
            r.error("scrape_native_histograms", "scrape_native_histograms is set to true, but PrometheusProto is not in scrape_protocols");
        }
        if negotiation && written_protocols {
            r.error("enable_protobuf_negotiation", "both enable_protobuf_negotiation and scrape_protocols are set, only one can be set at a time");
        }
        if validation != "utf8" && validation != "legacy" {
            r.error("metric_name_validation_scheme", format!("invalid metric_name_validation_scheme {validation:?}: must be either \"utf8\" or \"legacy\""));
        }
        if !matches!(escaping.as_str(), "allow-utf-8" | "underscores" | "dots" | "values") {
            r.error(
                "metric_name_escaping_scheme",
                format!("invalid metric_name_escaping_scheme {escaping:?}: must be one of \"allow-utf-8\", \"underscores\", \"dots\", \"values\""),
            );
        } else if escaping == "allow-utf-8" && legacy {
            r.error(
                "metric_name_escaping_scheme",
                "metric_name_escaping_scheme cannot be set to \"allow-utf-8\" while metric_name_validation_scheme is not set to \"utf8\"",
            );
        }
        args
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let d = &self.defaults;
        // Upstream names the job; the default job (the component's ID) is not known here.
        let job = self.job_name.as_ref().map(|j| format!(" for scrape config with job name {j:?}")).unwrap_or_default();
        r.check(
            d.timeout <= d.interval,
            &["scrape_timeout", "scrape_interval"],
            format!("scrape_timeout ({}) greater than scrape_interval ({}){job}", duration::format_duration(d.timeout), duration::format_duration(d.interval)),
        );
    }
}

/// One running loop and how to stop it.
struct Running {
    stop: watch::Sender<Option<Stop>>,
    task: tokio::task::JoinHandle<Loop>,
    status: Arc<Mutex<Status>>,
    target: Target,
}

pub struct Scrape {
    ctx: Context,
    metrics: scrape_loop::LoopMetrics,
    targets_gauge: crate::metrics::Gauge,
    fanout: Arc<Fanout>,
    args: watch::Sender<Arc<Args>>,
    /// (target, status) of the running loops, for debug info.
    view: Mutex<Vec<(Target, Arc<Mutex<Status>>)>>,
    dropped: Mutex<Vec<(BTreeMap<String, String>, String)>>,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let fanout = Arc::new(Fanout::new(args.forward_to.clone()).tapped(&ctx));
    let (tx, _) = watch::channel(Arc::new(args));
    let metrics = scrape_loop::LoopMetrics {
        exceeded_sample_limit: ctx.counter(
            "prometheus_target_scrapes_exceeded_sample_limit_total",
            "Total number of scrapes that hit the sample limit and were rejected.",
            &[],
        ),
        duplicate_timestamp: ctx.counter(
            "prometheus_target_scrapes_sample_duplicate_timestamp_total",
            "Total number of samples rejected due to duplicate timestamps but different values.",
            &[],
        ),
        out_of_bounds: ctx.counter(
            "prometheus_target_scrapes_sample_out_of_bounds_total",
            "Total number of samples rejected due to timestamp falling outside of the time bounds.",
            &[],
        ),
    };
    let targets_gauge = ctx.gauge("prometheus_scrape_targets_gauge", "Number of targets this component is configured to scrape", &[]);
    Ok(Arc::new(Scrape { ctx, metrics, targets_gauge, fanout, args: tx, view: Mutex::default(), dropped: Mutex::default() }))
}

impl Scrape {
    fn job(&self, args: &Args) -> String {
        args.job_name.clone().unwrap_or_else(|| self.ctx.id().rsplit('/').next().unwrap_or_default().to_string())
    }

    fn targets(&self, args: &Args) -> Vec<Target> {
        let defaults = TargetDefaults { job: self.job(args), ..args.defaults.clone() };
        let mut dropped = Vec::new();
        let mut out: Vec<Target> = Vec::new();
        for t in &args.targets {
            match target::populate(t, &defaults) {
                Ok(t) if !out.iter().any(|o| o.labels == t.labels) => out.push(t),
                Ok(_) => {}
                Err(e) => {
                    crate::prometheus::log(self.ctx.id(), tracing::Level::WARN, &format!("dropping target: {e}"));
                    dropped.push((t.clone(), e));
                }
            }
        }
        *self.dropped.lock().unwrap_or_else(|e| e.into_inner()) = dropped;
        out
    }
}

impl Component for Scrape {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        self.fanout.set(args.forward_to.clone());
        self.args.send_replace(Arc::new(args));
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let mut rx = self.args.subscribe();
            let mut running: HashMap<Labels, Running> = HashMap::new();
            // Loops of removed targets, waiting to mark their series stale.
            let mut leaving: HashMap<Labels, watch::Sender<Option<Stop>>> = HashMap::new();
            let mut current: Option<(Arc<Settings>, reqwest::Client)> = None;
            loop {
                let args = rx.borrow_and_update().clone();
                let settings = Arc::new(args.settings.clone());
                if current.as_ref().is_none_or(|(s, _)| *s != settings) {
                    stop_all(&mut running, Stop::Shutdown).await;
                    match settings.client.client(None, &crate::prometheus::user_agent()) {
                        Ok(c) => current = Some((settings.clone(), c)),
                        Err(e) => {
                            self.ctx.set_health(crate::HealthState::Unhealthy, e);
                            current = None;
                        }
                    }
                }
                if let Some((settings, client)) = &current {
                    let mut targets = self.targets(&args);
                    if args.target_limit > 0 && targets.len() as u64 > args.target_limit {
                        self.ctx.set_health(
                            crate::HealthState::Unhealthy,
                            format!("target_limit exceeded (number of targets: {}, limit: {})", targets.len(), args.target_limit),
                        );
                        targets.clear();
                    }
                    let keep: std::collections::HashSet<&Labels> = targets.iter().map(|t| &t.labels).collect();
                    let removed: Vec<Labels> = running.keys().filter(|k| !keep.contains(k)).cloned().collect();
                    for k in removed {
                        if let Some(r) = running.remove(&k) {
                            r.stop.send_replace(Some(Stop::Removed));
                            tokio::spawn(r.task);
                            leaving.insert(k, r.stop);
                        }
                    }
                    leaving.retain(|_, s| !s.is_closed());
                    for t in targets {
                        if running.contains_key(&t.labels) {
                            continue;
                        }
                        if let Some(old) = leaving.remove(&t.labels) {
                            old.send_replace(Some(Stop::Returned));
                        }
                        let mut l = Loop::new(t.clone(), settings.clone(), self.fanout.clone());
                        l.metrics = self.metrics.clone();
                        let status = l.status.clone();
                        let (stop, stop_rx) = watch::channel(None);
                        let task = tokio::spawn(l.run(client.clone(), stop_rx));
                        running.insert(t.labels.clone(), Running { stop, task, status, target: t });
                    }
                }
                self.targets_gauge.set(running.len() as f64);
                *self.view.lock().unwrap_or_else(|e| e.into_inner()) = running.values().map(|r| (r.target.clone(), r.status.clone())).collect();
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    changed = rx.changed() => if changed.is_err() { break },
                }
            }
            stop_all(&mut running, Stop::Shutdown).await;
            Ok(())
        })
    }

    fn debug_info(&self) -> Option<Value> {
        let view = self.view.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let args = self.args.borrow().clone();
        let job = self.job(&args);
        let targets: Vec<Value> = view
            .iter()
            .map(|(t, st)| {
                let st = st.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let mut o = Object::new();
                o.insert("job", Value::string(job.clone()));
                o.insert("url", Value::string(t.url.clone()));
                o.insert("health", Value::string(st.health));
                let labels: Object = t.public.iter().map(|(k, v)| (k.into(), Value::string(v))).collect();
                o.insert("labels", Value::object(labels));
                o.insert("last_error", Value::string(st.last_error.clone()));
                let last = st.last_scrape.map(crate::prometheus::rfc3339).unwrap_or_default();
                o.insert("last_scrape", Value::string(last));
                o.insert("last_scrape_duration", Value::string(format!("{:?}", st.last_duration)));
                Value::object(o)
            })
            .collect();
        let mut o = Object::new();
        o.insert("target", Value::Array(Arc::from(targets)));
        Some(Value::object(o))
    }
}

async fn stop_all(running: &mut HashMap<Labels, Running>, why: Stop) {
    let all: Vec<Running> = running.drain().map(|(_, r)| r).collect();
    for r in &all {
        r.stop.send_replace(Some(why));
    }
    for r in all {
        // A loop in the middle of a request ends when the request's timeout does.
        let _ = tokio::time::timeout(Duration::from_secs(15), r.task).await;
    }
}

#[cfg(test)]
mod tests;
