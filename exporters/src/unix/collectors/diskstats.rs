//! `diskstats`: per-device I/O counters from /proc/diskstats, `node_disk_info` with udev properties and the
//! sysfs rotational flag, and the udev-derived filesystem, device-mapper and ATA metrics.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{compile, read, read_trimmed, DeviceFilter, Result};
use crate::unix::{Collector, Config, ConfigError};

/// Ticks are milliseconds.
const SECONDS_PER_TICK: f64 = 1.0 / 1000.0;
/// Sector counts in /proc/diskstats are 512-byte units regardless of the device.
const SECTOR: f64 = 512.0;

const DEV: &[&str] = &["device"];

/// The counters in /proc/diskstats column order (after major, minor, name): name, help, type, scale.
const STATS: [(&str, &str, MetricType, f64); 17] = [
    ("node_disk_reads_completed_total", "The total number of reads completed successfully.", MetricType::Counter, 1.0),
    ("node_disk_reads_merged_total", "The total number of reads merged.", MetricType::Counter, 1.0),
    ("node_disk_read_bytes_total", "The total number of bytes read successfully.", MetricType::Counter, SECTOR),
    ("node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", MetricType::Counter, SECONDS_PER_TICK),
    ("node_disk_writes_completed_total", "The total number of writes completed successfully.", MetricType::Counter, 1.0),
    ("node_disk_writes_merged_total", "The number of writes merged.", MetricType::Counter, 1.0),
    ("node_disk_written_bytes_total", "The total number of bytes written successfully.", MetricType::Counter, SECTOR),
    ("node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", MetricType::Counter, SECONDS_PER_TICK),
    ("node_disk_io_now", "The number of I/Os currently in progress.", MetricType::Gauge, 1.0),
    ("node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", MetricType::Counter, SECONDS_PER_TICK),
    ("node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", MetricType::Counter, SECONDS_PER_TICK),
    ("node_disk_discards_completed_total", "The total number of discards completed successfully.", MetricType::Counter, 1.0),
    ("node_disk_discards_merged_total", "The total number of discards merged.", MetricType::Counter, 1.0),
    ("node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", MetricType::Counter, 1.0),
    ("node_disk_discard_time_seconds_total", "This is the total number of seconds spent by all discards.", MetricType::Counter, SECONDS_PER_TICK),
    ("node_disk_flush_requests_total", "The total number of flush requests completed successfully", MetricType::Counter, 1.0),
    ("node_disk_flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.", MetricType::Counter, SECONDS_PER_TICK),
];

/// udev properties exported as ATA gauges when `ID_ATA` is set.
const ATA: [(&str, &str, &str); 3] = [
    ("ID_ATA_WRITE_CACHE", "node_disk_ata_write_cache", "ATA disk has a write cache."),
    ("ID_ATA_WRITE_CACHE_ENABLED", "node_disk_ata_write_cache_enabled", "ATA disk has its write cache enabled."),
    ("ID_ATA_ROTATION_RATE_RPM", "node_disk_ata_rotation_rate_rpm", "ATA disk rotation rate in RPMs (0 for SSDs)."),
];

pub(crate) struct Diskstats {
    diskstats: PathBuf,
    sys_block: PathBuf,
    /// `None` when the udev data directory is missing: udev labels stay empty (upstream logs this once).
    udev: Option<PathBuf>,
    filter: DeviceFilter,
}

impl Diskstats {
    pub fn new(cfg: &Config) -> std::result::Result<Diskstats, ConfigError> {
        // Alloy: a non-empty include makes the exclude (which has a default) ignored.
        let filter = if cfg.disk.device_include.is_empty() {
            DeviceFilter { exclude: compile("disk.device_exclude", &cfg.disk.device_exclude)?, include: None }
        } else {
            DeviceFilter { exclude: None, include: compile("disk.device_include", &cfg.disk.device_include)? }
        };
        let udev = PathBuf::from(&cfg.udev_data_path);
        Ok(Diskstats {
            diskstats: PathBuf::from(&cfg.procfs_path).join("diskstats"),
            sys_block: PathBuf::from(&cfg.sysfs_path).join("block"),
            udev: udev.is_dir().then_some(udev),
            filter,
        })
    }

    /// The `E:KEY=VALUE` lines of the udev database entry `b<major>:<minor>`; empty when unreadable.
    fn udev_properties(&self, major: &str, minor: &str) -> HashMap<String, String> {
        let Some(dir) = &self.udev else { return HashMap::new() };
        let Ok(text) = std::fs::read_to_string(dir.join(format!("b{major}:{minor}"))) else { return HashMap::new() };
        text.lines().filter_map(|l| l.strip_prefix("E:")).filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }
}

impl Collector for Diskstats {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let text = read(&self.diskstats)?;
        let info = sink.family(
            "node_disk_info",
            "Info of /sys/block/<block_device>.",
            MetricType::Gauge,
            &["device", "major", "minor", "path", "wwn", "model", "serial", "revision", "rotational"],
        );
        for line in text.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // major, minor, name and at least the 11 classic counters; anything shorter is not a device line.
            if fields.len() < 14 {
                continue;
            }
            let (major, minor, dev) = (fields[0], fields[1], fields[2]);
            if self.filter.ignored(dev) {
                continue;
            }
            let props = self.udev_properties(major, minor);
            let p = |k: &str| props.get(k).map(String::as_str).unwrap_or("");
            // The serial printed on the label, else the short one, else ID_SERIAL (virtio).
            let serial = [p("SCSI_IDENT_SERIAL"), p("ID_SERIAL_SHORT"), p("ID_SERIAL")].into_iter().find(|s| !s.is_empty()).unwrap_or("");
            let rotational = match read_trimmed(&self.sys_block.join(dev).join("queue/rotational")) {
                Ok(r) if r == "1" => "1",
                _ => "0",
            };
            sink.add(info, &[dev, major, minor, p("ID_PATH"), p("ID_WWN"), p("ID_MODEL"), serial, p("ID_REVISION"), rotational], 1.0);
            for ((name, help, ty, scale), raw) in STATS.iter().zip(&fields[3..]) {
                let Ok(v) = raw.parse::<u64>() else { break };
                sink.sample(name, help, *ty, DEV, &[dev], v as f64 * scale);
            }
            if !p("ID_FS_TYPE").is_empty() {
                sink.sample(
                    "node_disk_filesystem_info",
                    "Info about disk filesystem.",
                    MetricType::Gauge,
                    &["device", "type", "usage", "uuid", "version"],
                    &[dev, p("ID_FS_TYPE"), p("ID_FS_USAGE"), p("ID_FS_UUID"), p("ID_FS_VERSION")],
                    1.0,
                );
            }
            if !p("DM_NAME").is_empty() {
                sink.sample(
                    "node_disk_device_mapper_info",
                    "Info about disk device mapper.",
                    MetricType::Gauge,
                    &["device", "name", "uuid", "vg_name", "lv_name", "lv_layer"],
                    &[dev, p("DM_NAME"), p("DM_UUID"), p("DM_VG_NAME"), p("DM_LV_NAME"), p("DM_LV_LAYER")],
                    1.0,
                );
            }
            if !p("ID_ATA").is_empty() {
                for (key, name, help) in ATA {
                    if let Some(Ok(v)) = props.get(key).map(|v| v.parse::<f64>()) {
                        sink.sample(name, help, MetricType::Gauge, DEV, &[dev], v);
                    }
                }
            }
        }
        Ok(())
    }
}
