//! `filefd`: allocated and maximum file handles from /proc/sys/fs/file-nr.

use std::path::PathBuf;

use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{read, CollectError, Result};
use crate::unix::{Collector, Config};

pub(crate) struct Filefd {
    path: PathBuf,
}

impl Filefd {
    pub fn new(cfg: &Config) -> Filefd {
        Filefd { path: PathBuf::from(&cfg.procfs_path).join("sys/fs/file-nr") }
    }
}

impl Collector for Filefd {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let text = read(&self.path)?;
        // One line of three tab-separated numbers; the middle one (free handles) is always 0 since Linux 2.6.
        let parts: Vec<&str> = text.trim().split('\t').collect();
        if parts.len() < 3 {
            return Err(CollectError::new(format!("unexpected number of file stats in {:?}", self.path.display().to_string())));
        }
        let num = |s: &str| s.parse::<f64>().map_err(|_| CollectError::new(format!("invalid value {s} in file-nr")));
        let (allocated, maximum) = (num(parts[0])?, num(parts[2])?);
        sink.single("node_filefd_allocated", "File descriptor statistics: allocated.", MetricType::Gauge, allocated);
        sink.single("node_filefd_maximum", "File descriptor statistics: maximum.", MetricType::Gauge, maximum);
        Ok(())
    }
}
