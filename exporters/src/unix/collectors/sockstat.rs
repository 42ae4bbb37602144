//! `sockstat`: socket counts per protocol from /proc/net/sockstat and /proc/net/sockstat6.

use std::path::PathBuf;

use super::sys;
use crate::expfmt::{MetricType, Sink};
use crate::unix::util::{push_sanitized, read_optional, CollectError, Result};
use crate::unix::{Collector, Config};

pub(crate) struct Sockstat {
    v4: PathBuf,
    v6: PathBuf,
    page_size: u64,
}

impl Sockstat {
    pub fn new(cfg: &Config) -> Sockstat {
        let net = PathBuf::from(&cfg.procfs_path).join("net");
        Sockstat { v4: net.join("sockstat"), v6: net.join("sockstat6"), page_size: sys::page_size() }
    }
}

/// The per-protocol fields procfs knows, in the order node_exporter emits them; `mem` (pages) also yields
/// `mem_bytes`.
const FIELDS: &[&str] = &["inuse", "orphan", "tw", "alloc", "mem", "memory"];

impl Sockstat {
    fn emit(&self, sink: &mut Sink, name: &mut String, text: &str, ipv6: bool) {
        for line in text.lines() {
            let Some((proto, rest)) = line.split_once(':') else { continue };
            let kv: Vec<&str> = rest.split_whitespace().collect();
            if proto == "sockets" {
                // Only IPv4 has it; `sockets: used N`.
                if let (false, ["used", n, ..]) = (ipv6, kv.as_slice()) {
                    if let Ok(v) = n.parse::<f64>() {
                        sink.single("node_sockstat_sockets_used", "Number of IPv4 sockets in use.", MetricType::Gauge, v);
                    }
                }
                continue;
            }
            let get = |f: &str| kv.chunks_exact(2).find(|p| p[0] == f).and_then(|p| p[1].parse::<i64>().ok());
            let mut pairs: Vec<(&str, i64)> = FIELDS.iter().filter_map(|f| get(f).map(|v| (*f, v))).collect();
            if let Some(mem) = get("mem") {
                pairs.push(("mem_bytes", mem * self.page_size as i64));
            }
            for (field, v) in pairs {
                name.clear();
                name.push_str("node_sockstat_");
                push_sanitized(name, proto);
                name.push('_');
                name.push_str(field);
                let id = sink.family_with(name, MetricType::Gauge, &[], |h| {
                    h.push_str("Number of ");
                    h.push_str(proto);
                    h.push_str(" sockets in state ");
                    h.push_str(field);
                    h.push('.');
                });
                sink.add(id, &[], v as f64);
            }
        }
    }
}

impl Collector for Sockstat {
    fn update(&self, sink: &mut Sink) -> Result<()> {
        // Either file is absent when its IP version is disabled.
        let v4 = read_optional(&self.v4).map_err(|e| CollectError::new(format!("failed to get IPv4 sockstat data: {}", e.message)))?;
        let v6 = read_optional(&self.v6).map_err(|e| CollectError::new(format!("failed to get IPv6 sockstat data: {}", e.message)))?;
        let mut name = String::new();
        if let Some(t) = v4 {
            self.emit(sink, &mut name, &t, false);
        }
        if let Some(t) = v6 {
            self.emit(sink, &mut name, &t, true);
        }
        Ok(())
    }
}
