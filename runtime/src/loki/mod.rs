//! The Loki log pipeline: components that read, transform and send log entries
//! ([`loki::Entry`]) and hand them to each other through `LogsReceiver` capsules
//! ([`receiver`]).

pub mod echo;
pub mod process;
pub mod receiver;
pub mod relabel;
pub mod secretfilter;
pub mod source;
pub mod write;

use crate::component::Registration;

/// The family's components, for `components::registrations`.
pub fn registrations() -> Vec<Registration> {
    vec![
        echo::REGISTRATION,
        process::REGISTRATION,
        relabel::REGISTRATION,
        secretfilter::REGISTRATION,
        source::api::REGISTRATION,
        source::docker::REGISTRATION,
        source::file::REGISTRATION,
        source::gelf::REGISTRATION,
        source::syslog::REGISTRATION,
        write::REGISTRATION,
    ]
}
