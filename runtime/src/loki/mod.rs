//! The Loki log pipeline: components that read, transform and send log entries
//! ([`loki::Entry`]) and hand them to each other through `LogsReceiver` capsules
//! ([`receiver`]).

pub mod process;
pub mod receiver;

use crate::component::Registration;

/// The family's components, for `components::registrations`.
pub fn registrations() -> Vec<Registration> {
    vec![process::REGISTRATION]
}
