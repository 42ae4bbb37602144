//! `discovery.docker`: the containers a Docker daemon runs, as targets labelled like
//! Prometheus' Docker service discovery ([`targets`]), listed every `refresh_interval`
//! through the Engine API (`crate::docker_engine`): `GET /containers/json` with the `filter`
//! blocks, then `GET /networks` for the network labels.
//!
//! A refresh that fails (daemon unreachable, an error answer) keeps the last targets, makes
//! the component unhealthy with the error, and is retried at the next interval; requests time
//! out after `refresh_interval`. The HTTP client settings apply to every host scheme (TLS to
//! `https://` only); `oauth2`, `proxy_connect_header` and `tls_config.server_name` are refused
//! by name (the shared client does not implement them).

mod targets;

use std::sync::Arc;
use std::time::{Duration, Instant};

use eval::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Outcome, Target};
use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::discovery::refresh::{self, Refreshing};
use crate::docker_engine::{parse_host, Engine, Filters};
use crate::http_client::HttpClientConfig;
use crate::metrics::{Counter, Histogram};
use targets::Shape;

const NAME: &str = "discovery.docker";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["targets"], build);

/// A `filter` block.
#[derive(Clone, Debug, Default, PartialEq)]
struct Filter {
    name: String,
    values: Vec<String>,
}

impl Arguments for Filter {
    fn decode(r: &mut Reader<'_>) -> Self {
        Filter { name: r.get("name"), values: r.get("values") }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Args {
    host: String,
    shape: Shape,
    refresh_interval: Duration,
    filters: Filters,
    client: HttpClientConfig,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        let client = HttpClientConfig::decode(r);
        client.validate(r);
        let mut filters = Filters::new();
        for f in r.blocks::<Filter>("filter") {
            filters.entry(f.name).or_default().extend(f.values);
        }
        Args {
            host: r.get("host"),
            shape: Shape { port: r.get("port"), host_networking_host: r.get("host_networking_host"), match_first_network: r.get("match_first_network") },
            refresh_interval: r.get::<Dur>("refresh_interval").0,
            filters,
            client,
        }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        if r.known("host") {
            if self.host.is_empty() {
                r.error("host", "host attribute must not be empty");
            } else if let Err(e) = parse_host(&self.host) {
                r.error("host", format!("parsing host attribute: {e}"));
            }
        }
        r.check(!self.refresh_interval.is_zero(), &["refresh_interval"], "refresh_interval must be greater than 0");
    }
}

fn engine_of(args: &Args) -> Result<Engine, String> {
    Engine::new(&args.host, &args.client, args.refresh_interval, &crate::prometheus::user_agent())
}

/// One refresh: the containers and networks now, as targets.
async fn fetch(engine: &Engine, args: &Args) -> Result<Vec<Target>, String> {
    let containers = engine.containers(&args.filters).await.map_err(|e| format!("error while listing containers: {e}"))?;
    let networks = engine.networks().await.map_err(|e| format!("error while computing network labels: {e}"))?;
    Ok(targets::targets(&containers, &networks, &args.shape))
}

struct DockerDiscovery {
    ctx: Context,
    args: watch::Sender<Arc<Args>>,
    outcome: Outcome,
    failures: Counter,
    duration: Histogram,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    // Settings that cannot work (a bad CA) fail now, not at every refresh.
    engine_of(&args)?;
    let failures = ctx.counter(
        "prometheus_sd_refresh_failures_total",
        "Number of refresh failures for the given SD mechanism.",
        &[("mechanism", "docker"), ("config", "")],
    );
    let duration = ctx.histogram(
        "prometheus_sd_refresh_duration_histogram_seconds",
        "The duration of a refresh for the given SD mechanism.",
        &[("mechanism", "docker")],
        &[0.01, 0.1, 1.0, 10.0],
    );
    // Targets arrive with the first refresh, when the component runs.
    let outcome = Outcome::default();
    outcome.published.export(&ctx, Vec::new());
    Ok(Arc::new(DockerDiscovery { ctx, args: watch::channel(Arc::new(args)).0, outcome, failures, duration }))
}

impl Refreshing for DockerDiscovery {
    type Args = Args;
    type Client = Engine;

    fn client(args: &Args) -> Result<Engine, String> {
        engine_of(args)
    }

    fn interval(args: &Args) -> std::time::Duration {
        args.refresh_interval
    }

    async fn fetch(&self, engine: &Engine, args: &Args) -> Result<Vec<Target>, String> {
        let start = Instant::now();
        let result = fetch(engine, args).await;
        self.duration.observe(start.elapsed().as_secs_f64());
        result
    }

    fn failed(&self) {
        self.failures.inc();
    }

    fn ctx(&self) -> &Context {
        &self.ctx
    }

    fn outcome(&self) -> &Outcome {
        &self.outcome
    }
}

impl Component for DockerDiscovery {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        engine_of(&args)?;
        self.args.send_replace(Arc::new(args));
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        let args = self.args.subscribe();
        Box::pin(refresh::run(self, args, shutdown))
    }

    fn debug_info(&self) -> Option<Value> {
        let mut o = eval::Object::ordered();
        o.insert("last_error", Value::string(self.outcome.error().unwrap_or_default()));
        Some(Value::object(o))
    }
}

#[cfg(test)]
mod tests;
