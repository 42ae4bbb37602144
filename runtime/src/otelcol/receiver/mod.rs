//! Receivers: where telemetry enters the pipeline.
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

use crate::component::{ComponentError, Context, HealthState};

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
