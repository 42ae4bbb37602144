//! The shipped component registry: rt-otel's `otelcol.*` components and the runtime's own.

pub mod local_file;

use std::sync::Arc;

use crate::component::{Registration, Registrations};

/// Every component this runtime can build. A component the catalogue knows but this list
/// lacks fails the load with `component "X" is not supported by this runtime yet`.
pub fn registrations() -> Vec<Registration> {
    let mut all = vec![local_file::REGISTRATION];
    #[cfg(feature = "otelcol")]
    all.extend(crate::otelcol::registrations());
    #[cfg(feature = "prometheus")]
    all.extend(crate::prometheus::registrations());
    #[cfg(feature = "prometheus")]
    all.extend(crate::discovery::registrations());
    #[cfg(feature = "loki")]
    all.extend(crate::loki::registrations());
    all.push(crate::services::logging::REGISTRATION);
    all.push(crate::services::http::REGISTRATION);
    all.push(crate::services::livedebugging::REGISTRATION);
    all.extend(crate::controller::imports::REGISTRATIONS);
    all
}

/// [`registrations`] by name: what the controller and `alloy validate` are given.
pub fn registry() -> Arc<Registrations> {
    Arc::new(Registrations::new(registrations()))
}
