//! `stat`: interrupts, context switches, forks, boot time and process states from /proc/stat.

use std::path::PathBuf;

use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{read, Result};
use crate::unix::{Collector, Config};

pub(crate) struct Stat {
    path: PathBuf,
}

impl Stat {
    pub fn new(cfg: &Config) -> Stat {
        Stat { path: PathBuf::from(&cfg.procfs_path).join("stat") }
    }
}

impl Collector for Stat {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let text = read(&self.path)?;
        let (mut intr, mut ctxt, mut forks, mut btime, mut running, mut blocked) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            let (Some(key), Some(first)) = (parts.next(), parts.next()) else { continue };
            // A malformed number counts as 0, as procfs leaves the field unset.
            let v = first.parse::<u64>().map(|v| v as f64).unwrap_or(0.0);
            match key {
                "intr" => intr = v,
                "ctxt" => ctxt = v,
                "processes" => forks = v,
                "btime" => btime = v,
                "procs_running" => running = v,
                "procs_blocked" => blocked = v,
                _ => {}
            }
        }
        sink.single("node_intr_total", "Total number of interrupts serviced.", MetricType::Counter, intr);
        sink.single("node_context_switches_total", "Total number of context switches.", MetricType::Counter, ctxt);
        sink.single("node_forks_total", "Total number of forks.", MetricType::Counter, forks);
        sink.single("node_boot_time_seconds", "Node boot time, in unixtime.", MetricType::Gauge, btime);
        sink.single("node_procs_running", "Number of processes in runnable state.", MetricType::Gauge, running);
        sink.single("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.", MetricType::Gauge, blocked);
        Ok(())
    }
}
