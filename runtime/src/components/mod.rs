//! The shipped component registry: rt-otel's `otelcol.*` components and the runtime's own.

pub mod local_file;

use crate::component::Registration;

/// Every component this runtime can build. A component the catalogue knows but this list
/// lacks fails the load with `component "X" is not supported by this runtime yet`.
pub fn registrations() -> Vec<Registration> {
    let mut all = crate::otelcol::registrations();
    all.push(local_file::REGISTRATION);
    all
}
