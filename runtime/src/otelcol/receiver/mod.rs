//! Receivers: where telemetry enters the pipeline.
pub mod jaeger;
// filelog follows files with the Loki file source's tailer.
#[cfg(feature = "loki")]
pub mod filelog;
#[cfg(feature = "loki")]
pub mod loki;
pub mod otlp;
#[cfg(feature = "prometheus")]
pub mod prometheus;
pub mod zipkin;

use std::future::Future;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::component::{BoxFuture, ComponentError, Context, HealthState};
use crate::otelcol::consumer::{Fanout, Output};

/// A server receiver's run loop: serves the current configuration with `serve` until it
/// changes (then stops that server and serves the new one) or until shutdown. A server that
/// fails ends the loop and makes the component unhealthy.
pub(crate) async fn serve_configs<C, F, Fut>(ctx: &Context, config: &watch::Sender<C>, shutdown: CancellationToken, serve: F) -> Result<(), ComponentError>
where
    C: Clone,
    F: Fn(C, CancellationToken) -> Fut,
    Fut: Future<Output = Result<(), ComponentError>>,
{
    let mut changes = config.subscribe();
    loop {
        let current = changes.borrow_and_update().clone();
        let stop = shutdown.child_token();
        let serving = serve(current, stop.clone());
        tokio::pin!(serving);
        tokio::select! {
            r = &mut serving => {
                if let Err(e) = &r {
                    ctx.set_health(HealthState::Unhealthy, e.to_string());
                }
                // Servers end on shutdown or failure.
                return r;
            }
            changed = changes.changed() => {
                stop.cancel();
                let _ = serving.await;
                if changed.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

/// Runs one configuration's servers (each protocol's) until all have ended; the first that
/// fails stops the others (through `stop`) and is the result.
pub(crate) async fn join_servers(servers: Vec<BoxFuture<Result<(), ComponentError>>>, stop: &CancellationToken) -> Result<(), ComponentError> {
    let mut tasks = tokio::task::JoinSet::new();
    for s in servers {
        tasks.spawn(s);
    }
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                stop.cancel();
                return Err(e);
            }
            Err(e) => return Err(ComponentError(format!("server task failed: {e}"))),
        }
    }
    Ok(())
}

/// A server receiver's `update`: the new consumers take effect at once, the new
/// configuration when [`serve_configs`] restarts the servers with it.
pub(crate) fn apply<C>(fanout: &Fanout, config: &watch::Sender<C>, (new_config, output): (C, Output)) {
    fanout.set(output);
    config.send_replace(new_config);
}

/// Refuses an endpoint that is not `host:port` (the form only: resolving a host name is for
/// the server when it starts).
pub(crate) fn check_endpoint(r: &mut crate::component::Reader<'_>, endpoint: &str) {
    let port = endpoint.rsplit_once(':').map(|(_, p)| p.parse::<u16>());
    r.check(matches!(port, Some(Ok(_))), &["endpoint"], format!("invalid endpoint {endpoint:?}: expected host:port"));
}

/// Binds a TCP listener on `endpoint` for the server `what` names; returns it and its address.
pub(crate) async fn bind(endpoint: &str, what: &str) -> Result<(tokio::net::TcpListener, std::net::SocketAddr), ComponentError> {
    let addr = otlp::parse_endpoint(endpoint)?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| ComponentError(format!("failed to listen on {addr} for {what}: {e}")))?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// An object value from pairs, for tests that build receiver arguments.
#[cfg(test)]
pub(crate) fn obj(pairs: &[(&str, eval::Value)]) -> eval::Value {
    let mut o = eval::Object::new();
    for (k, v) in pairs {
        o.insert(*k, v.clone());
    }
    eval::Value::object(o)
}
