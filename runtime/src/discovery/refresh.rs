//! The loop of a discovery that asks a remote source for its targets every
//! `refresh_interval` (`discovery.http`, `discovery.docker`): a refresh right away and after
//! every interval, at once when the arguments change, the last good targets kept when one fails.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Outcome, Target};
use crate::component::{ComponentError, Context};

/// What a polled discovery supplies to [`run`].
pub(crate) trait Refreshing: Send + Sync + 'static {
    type Args: Send + Sync + 'static;
    /// What a refresh talks through (an HTTP client, a Docker Engine client), built anew when
    /// the arguments change.
    type Client: Send + Sync;

    fn client(args: &Self::Args) -> Result<Self::Client, String>;
    fn interval(args: &Self::Args) -> Duration;
    /// The targets now, or why there are none.
    fn fetch(&self, client: &Self::Client, args: &Self::Args) -> impl Future<Output = Result<Vec<Target>, String>> + Send;
    /// Counts a failed refresh in the component's metrics.
    fn failed(&self);
    fn ctx(&self) -> &Context;
    fn outcome(&self) -> &Outcome;
}

/// Publishes the fetched targets, or reports why it failed and keeps the last ones.
async fn refresh<D: Refreshing>(d: &D, client: &D::Client, args: &D::Args) {
    match d.fetch(client, args).await {
        Ok(targets) => {
            d.outcome().published.export(d.ctx(), targets);
            d.outcome().report(d.ctx(), Ok(()));
        }
        Err(e) => {
            d.failed();
            d.outcome().report(d.ctx(), Err(e));
        }
    }
}

/// Refreshes until `shutdown`, with the arguments `args` holds at each moment.
pub(crate) async fn run<D: Refreshing>(d: Arc<D>, mut args: watch::Receiver<Arc<D::Args>>, shutdown: CancellationToken) -> Result<(), ComponentError> {
    loop {
        let current = args.borrow_and_update().clone();
        let client = D::client(&current);
        loop {
            match &client {
                Ok(client) => tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = refresh(&*d, client, &current) => {}
                },
                Err(e) => d.outcome().report(d.ctx(), Err(e.clone())),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                changed = args.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    break;
                }
                _ = tokio::time::sleep(D::interval(&current)) => {}
            }
        }
    }
}
