//! A log entry as Loki components hand it to each other: the stream's labels, a timestamp, the
//! line, and structured metadata (name/value pairs that travel with the line, not the stream).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prom::Labels;

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub labels: Labels,
    /// Nanoseconds since the Unix epoch (Loki's resolution).
    pub timestamp_ns: i64,
    pub line: String,
    /// In the order they were added; names are unique.
    pub structured_metadata: Vec<(String, String)>,
}

impl Entry {
    pub fn new(labels: Labels, timestamp_ns: i64, line: impl Into<String>) -> Self {
        Entry { labels, timestamp_ns, line: line.into(), structured_metadata: Vec::new() }
    }

    /// Nanoseconds since the epoch of `t` (saturating outside `i64`'s range).
    pub fn nanos_of(t: SystemTime) -> i64 {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
            Err(e) => i64::try_from(e.duration().as_nanos()).map(|n| -n).unwrap_or(i64::MIN),
        }
    }

    pub fn time(&self) -> SystemTime {
        if self.timestamp_ns >= 0 {
            UNIX_EPOCH + Duration::from_nanos(self.timestamp_ns as u64)
        } else {
            UNIX_EPOCH - Duration::from_nanos(self.timestamp_ns.unsigned_abs())
        }
    }

    /// Sets a structured metadata pair, replacing one of the same name.
    pub fn set_metadata(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.structured_metadata.iter_mut().find(|(n, _)| n == name) {
            Some(pair) => pair.1 = value,
            None => self.structured_metadata.push((name.to_string(), value)),
        }
    }

    pub fn metadata(&self, name: &str) -> Option<&str> {
        self.structured_metadata.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trips_before_and_after_the_epoch() {
        for ns in [0i64, 1, 1_700_000_000_123_456_789, -5_000_000_001] {
            let e = Entry::new(Labels::empty(), ns, "x");
            assert_eq!(Entry::nanos_of(e.time()), ns);
        }
    }

    #[test]
    fn metadata_names_stay_unique() {
        let mut e = Entry::new(Labels::empty(), 0, "x");
        e.set_metadata("a", "1");
        e.set_metadata("b", "2");
        e.set_metadata("a", "3");
        assert_eq!(e.structured_metadata, vec![("a".to_string(), "3".to_string()), ("b".to_string(), "2".to_string())]);
        assert_eq!(e.metadata("a"), Some("3"));
    }
}
