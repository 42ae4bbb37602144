//! Components that produce targets: `discovery.file` and `discovery.http` (Prometheus' file
//! and HTTP service discovery, target groups parsed in [`target_groups`]),
//! `discovery.docker` (a Docker daemon's containers) and `local.file_match` (files matched
//! by `__path__` globs).
//!
//! Exports are sorted, so a refresh that finds the same targets publishes an equal value and
//! dependants are not re-evaluated. A refresh that fails keeps the last good targets (as
//! upstream does), makes the component unhealthy with the error, and is logged once per
//! distinct error; the next refresh retries. Targets that changed are published to live
//! debugging as one `target` record ([`Published`]).

pub mod docker;
pub mod file;
pub mod file_match;
pub mod http;
mod refresh;
pub mod target_groups;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use eval::{Object, Value};

use crate::component::{Context, HealthState, Registration};
use crate::livedebugging::DataType;

/// A target: label name → value.
pub type Target = BTreeMap<String, String>;

pub fn registrations() -> Vec<Registration> {
    vec![docker::REGISTRATION, file::REGISTRATION, http::REGISTRATION, file_match::REGISTRATION]
}

/// `{ targets = [...] }`.
fn exports_of(targets: &[Target]) -> Value {
    let items: Vec<Value> =
        targets.iter().map(|t| Value::Object(Arc::new(t.iter().map(|(k, v)| (k.as_str().into(), Value::string(v.as_str()))).collect()))).collect();
    let mut o = Object::ordered();
    o.insert("targets", Value::array(items));
    Value::object(o)
}

/// Exports targets and tells live debugging when they changed.
#[derive(Default)]
pub(crate) struct Published {
    /// The last exported targets (sorted, deduplicated).
    last: Mutex<Option<Vec<Target>>>,
}

impl Published {
    /// Exports `targets` (sorted, without duplicates); when they differ from the last ones,
    /// publishes them as one `target` record: one line of labels per target.
    pub(crate) fn export(&self, ctx: &Context, mut targets: Vec<Target>) {
        targets.sort();
        targets.dedup();
        ctx.set_exports(exports_of(&targets));
        let tap = ctx.tap();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.as_ref() == Some(&targets) {
            return;
        }
        tap.publish(DataType::Target, targets.len() as u64, &[], || targets.iter().map(target_text).collect::<Vec<_>>().join("\n"));
        *last = Some(targets);
    }
}

/// `{k="v", …}`, as Prometheus prints label sets.
pub(crate) fn target_text(t: &Target) -> String {
    let pairs: Vec<String> = t.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

/// The outcome of the last refresh: health follows it, and a log line is written only when
/// it changes (a failing endpoint polled every minute logs once, not every minute).
#[derive(Default)]
pub(crate) struct Outcome {
    last: Mutex<Option<String>>,
    /// The targets the last good refresh exported.
    pub(crate) published: Published,
}

impl Outcome {
    pub(crate) fn report(&self, ctx: &Context, result: Result<(), String>) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(()) => {
                if last.take().is_some() {
                    crate::prometheus::log(ctx.id(), tracing::Level::INFO, "discovery recovered");
                }
                ctx.set_health(HealthState::Healthy, "targets discovered");
            }
            Err(e) => {
                if last.as_deref() != Some(e.as_str()) {
                    crate::prometheus::log(ctx.id(), tracing::Level::ERROR, &format!("discovery failed, keeping the last targets: {e}"));
                    *last = Some(e.clone());
                }
                ctx.set_health(HealthState::Unhealthy, e);
            }
        }
    }

    /// The last error, if the last refresh failed (tests, debug info).
    pub(crate) fn error(&self) -> Option<String> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::livedebugging::{DebugSink, Filter};

    #[test]
    fn targets_are_published_when_they_change() {
        let ctx = crate::component::detached_context("discovery.file.f");
        let hub = ctx.live_debugging().clone();
        hub.set_enabled(true);
        let (sink, mut rx) = DebugSink::new("discovery.file.f", Filter::default(), 100);
        let _sub = hub.watch(sink);
        let p = Published::default();
        let t = |a: &str| testing::target(&[("__address__", a), ("job", "x")]);
        p.export(&ctx, vec![t("b:1"), t("a:1")]);
        p.export(&ctx, vec![t("a:1"), t("b:1")]);
        p.export(&ctx, vec![t("a:1")]);
        let records: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok()).map(|r| r.to_string()).collect();
        assert_eq!(
            records,
            ["{__address__=\"a:1\", job=\"x\"}\n{__address__=\"b:1\", job=\"x\"}", "{__address__=\"a:1\", job=\"x\"}"],
            "the same targets again publish nothing"
        );
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use std::sync::{Arc, Mutex};

    use eval::Value;

    use super::Target;
    use crate::component::{Context, ContextInner, Health, HealthState, Host};

    /// A host that keeps the last exports and health, for unit tests.
    #[derive(Default)]
    pub(crate) struct Recorded {
        exports: Mutex<Value>,
        health: Mutex<Option<Health>>,
    }

    impl Host for Recorded {
        fn set_exports(&self, exports: Value) {
            *self.exports.lock().unwrap_or_else(|e| e.into_inner()) = exports;
        }

        fn set_health(&self, health: Health) {
            *self.health.lock().unwrap_or_else(|e| e.into_inner()) = Some(health);
        }
    }

    impl Recorded {
        pub(crate) fn targets(&self) -> Vec<Target> {
            let v = self.exports.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let Some(o) = v.as_object() else { return Vec::new() };
            let Some(Value::Array(items)) = o.get("targets") else { return Vec::new() };
            items
                .iter()
                .filter_map(|t| {
                    t.as_object().map(|o| {
                        o.iter()
                            .map(|(k, v)| {
                                let v = match v {
                                    Value::String(s) => s.to_string_lossy().into_owned(),
                                    _ => String::new(),
                                };
                                (k.to_string(), v)
                            })
                            .collect()
                    })
                })
                .collect()
        }

        pub(crate) fn health(&self) -> Option<(HealthState, String)> {
            self.health.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|h| (h.state, h.message.clone()))
        }
    }

    pub(crate) fn context(id: &str) -> (Context, Arc<Recorded>) {
        let host = Arc::new(Recorded::default());
        let ctx = Context {
            inner: Arc::new(ContextInner {
                id: id.to_string(),
                local_id: id.to_string(),
                component_path: "/".to_string(),
                data_path: std::env::temp_dir().join(id),
                registry: crate::metrics::Registry::new(),
                host: host.clone(),
                live: crate::livedebugging::Hub::new(),
            }),
        };
        (ctx, host)
    }

    /// Target from pairs.
    pub(crate) fn target(pairs: &[(&str, &str)]) -> Target {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }
}
