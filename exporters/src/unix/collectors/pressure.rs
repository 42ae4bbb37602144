//! `pressure`: pressure stall information totals from /proc/pressure/{cpu,io,memory,irq}, in seconds.

use std::io;
use std::path::PathBuf;

use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{go_error_text, CollectError, Result};
use crate::unix::{Collector, Config};

pub(crate) struct Pressure {
    dir: PathBuf,
}

impl Pressure {
    pub fn new(cfg: &Config) -> Pressure {
        Pressure { dir: PathBuf::from(&cfg.procfs_path).join("pressure") }
    }
}

/// The `total=` (microseconds) of the `some` and `full` lines.
fn parse(text: &str) -> (Option<u64>, Option<u64>) {
    let (mut some, mut full) = (None, None);
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let kind = parts.next();
        let total = parts.find_map(|p| p.strip_prefix("total=")).and_then(|t| t.parse::<u64>().ok());
        match kind {
            Some("some") => some = total,
            Some("full") => full = total,
            _ => {}
        }
    }
    (some, full)
}

const CPU: &str = "Total time in seconds that processes have waited for CPU time";
const IO: &str = "Total time in seconds that processes have waited due to IO congestion";
const IO_FULL: &str = "Total time in seconds no process could make progress due to IO congestion";
const MEM: &str = "Total time in seconds that processes have waited for memory";
const MEM_FULL: &str = "Total time in seconds no process could make progress due to memory congestion";
const IRQ_FULL: &str = "Total time in seconds no process could make progress due to IRQ congestion";

impl Collector for Pressure {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let mut found = 0;
        for res in ["cpu", "io", "memory", "irq"] {
            let text = match std::fs::read_to_string(self.dir.join(res)) {
                Ok(t) => t,
                // Kernel < 4.20 or without CONFIG_PSI; irq needs >= 6.1 with IRQ time accounting.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                // psi=0 on the kernel command line: the files exist but reading them fails with EOPNOTSUPP.
                Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => return Err(CollectError::no_data("pressure information is disabled")),
                Err(e) => return Err(CollectError::new(format!("failed to retrieve pressure stats: {}", go_error_text(&e)))),
            };
            let (some, full) = parse(&text);
            let secs = |us: u64| us as f64 / 1000.0 / 1000.0;
            let no_data = || CollectError::no_data(format!("pressure information for {res} returned no data"));
            match res {
                "cpu" => {
                    let s = some.ok_or_else(no_data)?;
                    sink.single("node_pressure_cpu_waiting_seconds_total", CPU, MetricType::Counter, secs(s));
                }
                "io" => {
                    let (s, f) = (some.ok_or_else(no_data)?, full.ok_or_else(no_data)?);
                    sink.single("node_pressure_io_waiting_seconds_total", IO, MetricType::Counter, secs(s));
                    sink.single("node_pressure_io_stalled_seconds_total", IO_FULL, MetricType::Counter, secs(f));
                }
                "memory" => {
                    let (s, f) = (some.ok_or_else(no_data)?, full.ok_or_else(no_data)?);
                    sink.single("node_pressure_memory_waiting_seconds_total", MEM, MetricType::Counter, secs(s));
                    sink.single("node_pressure_memory_stalled_seconds_total", MEM_FULL, MetricType::Counter, secs(f));
                }
                _ => {
                    let f = full.ok_or_else(no_data)?;
                    sink.single("node_pressure_irq_stalled_seconds_total", IRQ_FULL, MetricType::Counter, secs(f));
                }
            }
            found += 1;
        }
        if found == 0 {
            return Err(CollectError::no_data("pressure information is unavailable, you need a Linux kernel >= 4.20 and/or CONFIG_PSI enabled"));
        }
        Ok(())
    }
}
