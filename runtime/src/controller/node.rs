//! State of one graph node shared between the controller, the component's [`Context`] and
//! the HTTP API: current exports and the three health sources upstream merges.
//!
//! [`Context`]: crate::component::Context

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use crate::component::{Health, HealthState, Host};

/// A node whose exports changed, and when (for `alloy_component_dependencies_wait_seconds`).
pub type Change = (String, Instant);

pub struct NodeShared {
    pub id: String,
    state: Mutex<State>,
    /// Tells the controller that this node's exports changed, and when.
    changed: UnboundedSender<Change>,
    /// The component publishes to live debugging.
    live_debugging: AtomicBool,
}

struct State {
    exports: eval::Value,
    eval_health: Health,
    run_health: Health,
    component_health: Option<Health>,
    /// The merged health each time it changed, oldest first (the UI's health history).
    history: VecDeque<Health>,
}

/// Health changes kept per component.
pub const HEALTH_HISTORY: usize = 20;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl NodeShared {
    pub fn new(id: &str, changed: UnboundedSender<Change>) -> Arc<Self> {
        let created = Health::new(HealthState::Unknown, "component created");
        Arc::new(NodeShared {
            id: id.to_string(),
            state: Mutex::new(State {
                exports: eval::Value::Null,
                eval_health: created.clone(),
                run_health: created.clone(),
                component_health: None,
                history: VecDeque::from([created]),
            }),
            changed,
            live_debugging: AtomicBool::new(false),
        })
    }

    pub fn exports(&self) -> eval::Value {
        lock(&self.state).exports.clone()
    }

    /// Stores new exports; the controller is told only when they differ from the old ones.
    pub fn set_exports(&self, exports: eval::Value) {
        let mut st = lock(&self.state);
        if eval::value::values_equal(&st.exports, &exports) {
            return;
        }
        st.exports = exports;
        drop(st);
        // The receiver is gone only while the controller shuts down; nothing to notify then.
        let _ = self.changed.send((self.id.clone(), Instant::now()));
    }

    pub fn live_debugging(&self) -> bool {
        self.live_debugging.load(Ordering::Relaxed)
    }

    pub fn set_eval_health(&self, h: Health) {
        self.update(|st| st.eval_health = h);
    }

    pub fn set_run_health(&self, h: Health) {
        self.update(|st| st.run_health = h);
    }

    pub fn set_component_health(&self, h: Health) {
        self.update(|st| st.component_health = Some(h));
    }

    /// Changes one source and records the merged health when its state or message changed.
    fn update(&self, change: impl FnOnce(&mut State)) {
        let mut st = lock(&self.state);
        change(&mut st);
        let now = st.merged().clone();
        let same = st.history.back().is_some_and(|last| last.state == now.state && last.message == now.message);
        if !same {
            if st.history.len() == HEALTH_HISTORY {
                st.history.pop_front();
            }
            st.history.push_back(now);
        }
    }

    /// The least healthy of the sources (exited > unhealthy > unknown > healthy); ties go to
    /// the newest, then to the first.
    pub fn health(&self) -> Health {
        lock(&self.state).merged().clone()
    }

    /// The last [`HEALTH_HISTORY`] changes of the merged health, oldest first.
    pub fn health_history(&self) -> Vec<Health> {
        lock(&self.state).history.iter().cloned().collect()
    }
}

impl State {
    fn merged(&self) -> &Health {
        let mut best = &self.eval_health;
        for h in [Some(&self.run_health), self.component_health.as_ref()].into_iter().flatten() {
            let worse = h.state.severity() > best.state.severity();
            let newer = h.state.severity() == best.state.severity() && h.updated > best.updated;
            if worse || newer {
                best = h;
            }
        }
        best
    }
}

impl Host for NodeShared {
    fn set_exports(&self, exports: eval::Value) {
        NodeShared::set_exports(self, exports);
    }

    fn set_health(&self, health: Health) {
        self.set_component_health(health);
    }

    fn set_live_debugging(&self) {
        self.live_debugging.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_healthy_source_wins() {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let n = NodeShared::new("a.b", tx);
        n.set_eval_health(Health::new(HealthState::Healthy, "component evaluated"));
        n.set_run_health(Health::new(HealthState::Healthy, "started component"));
        assert_eq!(n.health().message, "started component");
        n.set_component_health(Health::new(HealthState::Unhealthy, "file gone"));
        assert_eq!(n.health().state, HealthState::Unhealthy);
        n.set_run_health(Health::new(HealthState::Exited, "component shut down cleanly"));
        assert_eq!(n.health().message, "component shut down cleanly");
    }

    #[test]
    fn history_records_changes_of_the_merged_health_only() {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let n = NodeShared::new("a.b", tx);
        // Evaluated but not yet running: the run source still says "created", which wins.
        n.set_eval_health(Health::new(HealthState::Healthy, "component evaluated"));
        n.set_run_health(Health::new(HealthState::Healthy, "started component"));
        n.set_run_health(Health::new(HealthState::Healthy, "started component"));
        n.set_component_health(Health::new(HealthState::Unhealthy, "file gone"));
        let messages: Vec<String> = n.health_history().into_iter().map(|h| h.message).collect();
        assert_eq!(messages, ["component created", "started component", "file gone"]);
        for i in 0..HEALTH_HISTORY * 2 {
            n.set_component_health(Health::new(HealthState::Unhealthy, format!("failure {i}")));
        }
        let history = n.health_history();
        assert_eq!(history.len(), HEALTH_HISTORY);
        assert_eq!(history.last().map(|h| h.message.as_str()), Some(format!("failure {}", HEALTH_HISTORY * 2 - 1).as_str()));
    }

    #[test]
    fn unchanged_exports_do_not_notify() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let n = NodeShared::new("a.b", tx);
        n.set_exports(eval::Value::string("x"));
        n.set_exports(eval::Value::string("x"));
        assert_eq!(rx.try_recv().ok().map(|c| c.0).as_deref(), Some("a.b"));
        assert!(rx.try_recv().is_err());
    }
}
