//! `time`: the system clock, the local zone offset and the clocksources from sysfs.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use super::sys;
use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{read_trimmed, CollectError, Result};
use crate::unix::{Collector, Config};

pub(crate) struct Time {
    clocksource_dir: PathBuf,
}

impl Time {
    pub fn new(cfg: &Config) -> Time {
        Time { clocksource_dir: PathBuf::from(&cfg.sysfs_path).join("devices/system/clocksource") }
    }
}

impl Collector for Time {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as f64 / 1e9).unwrap_or(0.0);
        sink.single("node_time_seconds", "System time in seconds since epoch (1970).", MetricType::Gauge, now);
        let (zone, offset) = sys::local_zone(now as i64).map_err(|e| CollectError::new(format!("localtime: {e}")))?;
        sink.sample("node_time_zone_offset_seconds", "System time zone offset in seconds.", MetricType::Gauge, &["time_zone"], &[&zone], offset as f64);
        self.clocksources(sink)
    }
}

impl Time {
    /// One `clocksource[0-9]*` directory per device; `device` is its position in name order, as upstream.
    fn clocksources(&self, sink: &mut Sink) -> Result<()> {
        let entries = std::fs::read_dir(&self.clocksource_dir)
            .map_err(|e| CollectError::new(format!("couldn't get clocksources: {}: {e}", self.clocksource_dir.display())))?;
        let mut dirs: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.strip_prefix("clocksource").is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit())))
            .collect();
        dirs.sort();
        let avail = sink.family(
            "node_time_clocksource_available_info",
            "Available clocksources read from '/sys/devices/system/clocksource'.",
            MetricType::Gauge,
            &["device", "clocksource"],
        );
        let current = sink.family(
            "node_time_clocksource_current_info",
            "Current clocksource read from '/sys/devices/system/clocksource'.",
            MetricType::Gauge,
            &["device", "clocksource"],
        );
        for (i, d) in dirs.iter().enumerate() {
            let dir = self.clocksource_dir.join(d);
            let read =
                |f: &str| read_trimmed(&dir.join(f)).map_err(|e| CollectError::new(format!("couldn't get clocksources: {}: {e}", dir.join(f).display())));
            let available = read("available_clocksource")?;
            let cur = read("current_clocksource")?;
            let idx = i.to_string();
            for cs in available.split_whitespace() {
                sink.add(avail, &[&idx, cs], 1.0);
            }
            sink.add(current, &[&idx, &cur], 1.0);
        }
        Ok(())
    }
}
