//! The Prometheus metrics pipeline: `prometheus.*` components passing [`prom::Batch`]es to
//! each other through `MetricsReceiver` capsules ([`receiver`]), and `discovery.relabel`.
//! The data model, relabelling, exposition parsers, wire formats and WAL live in the `prom`
//! crate; this module is the components around them.

pub mod discovery_relabel;
pub mod exporter;
pub mod receive_http;
pub mod receiver;
pub mod relabel;
pub mod remote_write;
/// The `rule` blocks and the `RelabelRules` capsule, shared with the Loki family.
pub use crate::relabel_rules as rules;
pub mod scrape;

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use prom::labels::Store;

use crate::component::Registration;

pub fn registrations() -> Vec<Registration> {
    vec![
        discovery_relabel::REGISTRATION,
        scrape::REGISTRATION,
        relabel::REGISTRATION,
        remote_write::REGISTRATION,
        exporter::self_exporter::REGISTRATION,
        exporter::unix::REGISTRATION,
        exporter::blackbox::REGISTRATION,
        receive_http::REGISTRATION,
    ]
}

/// The process' interned series: every component holding a series shares its labels and
/// refers to it by the same ref. Sets nobody holds are forgotten every few minutes.
pub fn series_store() -> &'static Store {
    static STORE: LazyLock<&'static Store> = LazyLock::new(|| {
        let store: &'static Store = Box::leak(Box::default());
        let _ = std::thread::Builder::new().name("series-gc".into()).spawn(move || loop {
            std::thread::sleep(Duration::from_secs(300));
            store.collect_garbage();
        });
        store
    });
    &STORE
}

/// The `User-Agent` of scrapes and remote writes.
pub fn user_agent() -> String {
    crate::http_client::user_agent()
}

pub use crate::component::log;

/// RFC 3339 UTC with nanoseconds trimmed to what is set, as Go prints `time.Time` in JSON.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, dd) = crate::civil_date::civil_from_days(days);
    let nanos = d.subsec_nanos();
    let frac = if nanos == 0 { String::new() } else { format!(".{nanos:09}").trim_end_matches('0').to_string() };
    format!("{y:04}-{m:02}-{dd:02}T{:02}:{:02}:{:02}{frac}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_prints_like_go() {
        let t = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 120_000_000);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.12Z");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
    }
}
