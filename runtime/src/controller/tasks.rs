//! Running components as tokio tasks: start in dependency order, stop dependants first within
//! a deadline, run health as upstream reports it.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::graph::Kind;
use super::Shared;
use crate::component::{Health, HealthState};

pub(crate) struct Task {
    cancel: CancellationToken,
    handle: JoinHandle<()>,
}

/// Starts every built component that has no running task (new nodes, and nodes whose task
/// exited since the last load, as upstream's scheduler does).
pub(crate) fn start_all(shared: &Shared) {
    let mut st = shared.lock();
    let st = &mut *st;
    for node in &st.nodes {
        let runs_modules = match node.spec.kind {
            Kind::Instance => node.args.is_some(),
            Kind::Foreach => true,
            _ => false,
        };
        if runs_modules && node.shared.health().state == HealthState::Unknown {
            // Custom components and foreach run through their modules' components; they have
            // no task of their own.
            node.shared.set_run_health(Health::new(HealthState::Healthy, "started custom component"));
        }
        if node.spec.kind != Kind::Component {
            continue;
        }
        let Some(component) = node.component.clone() else { continue };
        if st.tasks.get(&node.spec.id).is_some_and(|t| !t.handle.is_finished()) {
            continue;
        }
        let cancel = CancellationToken::new();
        let token = cancel.clone();
        let node_shared = node.shared.clone();
        let id = node.spec.id.clone();
        let handle = tokio::spawn(async move {
            node_shared.set_run_health(Health::new(HealthState::Healthy, "started component"));
            match component.run(token).await {
                Ok(()) => {
                    tracing::info!(node_id = %id, "node exited without error");
                    node_shared.set_run_health(Health::new(HealthState::Exited, "component shut down cleanly"));
                }
                Err(e) => {
                    tracing::error!(node_id = %id, error = %e, "node exited with error");
                    node_shared.set_run_health(Health::new(HealthState::Exited, format!("component shut down with error: {e}")));
                }
            }
        });
        st.tasks.insert(node.spec.id.clone(), Task { cancel, handle });
    }
}

/// Stops tasks one by one in the given order (dependants first, so they can flush into
/// their dependencies), all within `deadline`.
pub(crate) async fn stop(tasks: Vec<(String, Task)>, deadline: Duration) {
    let until = tokio::time::Instant::now() + deadline;
    for (id, task) in tasks {
        task.cancel.cancel();
        let mut handle = task.handle;
        match tokio::time::timeout_at(until, &mut handle).await {
            Ok(_) => {}
            Err(_) => {
                tracing::error!(node_id = %id, "task shutdown deadline exceeded");
                handle.abort();
            }
        }
    }
}
