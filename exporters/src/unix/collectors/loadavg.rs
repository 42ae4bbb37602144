//! `loadavg`: the 1, 5 and 15 minute load averages from /proc/loadavg.

use std::path::PathBuf;

use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{read, CollectError, Result};
use crate::unix::{Collector, Config};

pub(crate) struct Loadavg {
    path: PathBuf,
}

impl Loadavg {
    pub fn new(cfg: &Config) -> Loadavg {
        Loadavg { path: PathBuf::from(&cfg.procfs_path).join("loadavg") }
    }
}

impl Collector for Loadavg {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let text = read(&self.path)?;
        let mut loads = [0.0; 3];
        let mut parts = text.split_whitespace();
        for l in &mut loads {
            let p = parts.next().ok_or_else(|| CollectError::new(format!("unexpected content in {}", self.path.display())))?;
            *l = p.parse().map_err(|_| CollectError::new(format!("could not parse load '{p}'")))?;
        }
        sink.single("node_load1", "1m load average.", MetricType::Gauge, loads[0]);
        sink.single("node_load5", "5m load average.", MetricType::Gauge, loads[1]);
        sink.single("node_load15", "15m load average.", MetricType::Gauge, loads[2]);
        Ok(())
    }
}
