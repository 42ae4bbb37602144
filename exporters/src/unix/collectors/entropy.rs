//! `entropy`: available entropy and pool size from /proc/sys/kernel/random.

use std::path::PathBuf;

use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{read_u64, CollectError, Result};
use crate::unix::{Collector, Config};

pub(crate) struct Entropy {
    dir: PathBuf,
}

impl Entropy {
    pub fn new(cfg: &Config) -> Entropy {
        Entropy { dir: PathBuf::from(&cfg.procfs_path).join("sys/kernel/random") }
    }
}

impl Collector for Entropy {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let avail = read_u64(&self.dir.join("entropy_avail")).map_err(|e| CollectError::new(format!("couldn't get entropy_avail: {e}")))?;
        sink.single("node_entropy_available_bits", "Bits of available entropy.", MetricType::Gauge, avail as f64);
        let pool = read_u64(&self.dir.join("poolsize")).map_err(|e| CollectError::new(format!("couldn't get entropy poolsize: {e}")))?;
        sink.single("node_entropy_pool_size_bits", "Bits of entropy pool.", MetricType::Gauge, pool as f64);
        Ok(())
    }
}
