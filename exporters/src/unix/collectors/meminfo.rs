//! `meminfo`: one gauge per /proc/meminfo field. `Active(anon)` becomes `Active_anon`; fields with a unit (kB)
//! are converted to bytes and get `_bytes`; a field ending in `_total` would be a counter, as upstream.
//!
//! Every field is exported (node_exporter ≤ 1.8 did the same); upstream HEAD reads a fixed list through procfs and
//! so lacks a few fields newer kernels add (e.g. `KReclaimable`, `FileHugePages`, `SecPageTables`).

use std::path::PathBuf;

use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{push_sanitized, read, Result};
use crate::unix::{Collector, Config};

pub(crate) struct Meminfo {
    path: PathBuf,
}

impl Meminfo {
    pub fn new(cfg: &Config) -> Meminfo {
        Meminfo { path: PathBuf::from(&cfg.procfs_path).join("meminfo") }
    }
}

/// Appends the metric name suffix for a meminfo key: `Active(anon)` → `Active_anon`.
fn push_key(out: &mut String, key: &str) {
    match (key.find('('), key.rfind(')')) {
        (Some(open), Some(close)) if open < close => {
            push_sanitized(out, &key[..open]);
            out.push('_');
            push_sanitized(out, &key[open + 1..close]);
            push_sanitized(out, &key[close + 1..]);
        }
        _ => push_sanitized(out, key),
    }
}

impl Collector for Meminfo {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        let text = read(&self.path)?;
        let mut name = String::new();
        for line in text.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            // Empty and malformed lines (seen on some kernels) are skipped.
            if parts.len() < 2 || parts.len() > 3 {
                continue;
            }
            let Some(key) = parts[0].strip_suffix(':') else { continue };
            let Ok(mut v) = parts[1].parse::<f64>() else { continue };
            name.clear();
            name.push_str("node_memory_");
            push_key(&mut name, key);
            if parts.len() == 3 {
                v *= 1024.0;
                name.push_str("_bytes");
            }
            let ty = if name.ends_with("_total") { MetricType::Counter } else { MetricType::Gauge };
            let field = &name["node_memory_".len()..];
            let id = sink.family_with(&name, ty, &[], |h| {
                h.push_str("Memory information field ");
                h.push_str(field);
                h.push('.');
            });
            sink.add(id, &[], v);
        }
        Ok(())
    }
}
